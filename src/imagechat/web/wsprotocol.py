"""imagechat's WebSocket server protocol, plugged into uvicorn as its `ws=` class.

The live layer needs two things an ASGI `send` can't give: writing a frame prepared once for
thousands of connections (plain, or compressed once for all that negotiated permessage-deflate)
while keeping the transport's flow control, and closing a connection at once, behind the data
its peer has not read, with a bounded drain. `LiveWebSocketProtocol` offers them as an explicit
API (`Wire`, below); it is a complete ASGI WebSocket server on websockets' sans-I/O core, so
every other WebSocket route still works through ASGI as usual.

What it takes from uvicorn is all here, and nothing else in the project touches uvicorn's
internals: the constructor's keywords (`config`, `server_state`, `app_state`, `_loop`), the
config fields `loaded_app`, `root_path`, `asgi_version`, `ws_max_size`, `ws_ping_interval`,
`ws_ping_timeout` and `ws_per_message_deflate`, `server_state.connections`, `.tasks` and
`.default_headers`, and `shutdown()` on a graceful stop. tests/live/test_wsprotocol.py fails
when an uvicorn version no longer fits (pyproject.toml pins the range it is tested with).

It is also lighter than uvicorn's own protocol: no receive queue, no events, one timer, and
the handshake's request and response are let go once used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote

from websockets.exceptions import InvalidState
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import CloseCode, Opcode
from websockets.frames import Frame as WsFrame
from websockets.http11 import Request, Response
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from imagechat.domain import limits
from imagechat.realtime.frames import ControlFrame, Frame, binary_frame
from imagechat.settings import Settings

log = logging.getLogger("imagechat.ws")

# Where the scope of a connection served by this class names it: the live layer's way in.
WIRE = "imagechat.wire"
# A close frame the peer hasn't read (and answered) within this long: the connection is cut.
CLOSE_DRAIN_SECONDS = 5.0
# Over-size messages are "malformed beyond repair" (docs/live.md): 4400, never 1009, whose
# clients would reconnect and send the same thing again.
MALFORMED = 4400


class WireClosed(ConnectionError):
    """The connection is closed (or closing): nothing more can be sent on it."""


class _Connection(ServerProtocol):
    """websockets' sans-I/O server, with every over-size message closed with 4400."""

    def fail(self, code: CloseCode | int, reason: str = "") -> None:
        if code == CloseCode.MESSAGE_TOO_BIG:
            code = MALFORMED
        super().fail(code, reason)


def config_max_size(config: Any) -> int | None:
    size = config.ws_max_size
    return int(size) if size else None


class LiveWebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection: ASGI for the app, and the `Wire` API for the live layer."""

    __slots__ = (
        "_accepted",
        "_app",
        "_close_sent",
        "_close_timer",
        "_config",
        "_conn",
        "_connect_pending",
        "_deflate_bits",
        "_disconnect_code",
        "_drain_waiter",
        "_fragments",
        "_inbox",
        "_loop",
        "_ping_payload",
        "_read_paused",
        "_read_waiter",
        "_response",
        "_server_state",
        "_timer",
        "_transport",
        "_write_paused",
        "app_state",
        "client",
    )

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self._config = config
        self._app = config.loaded_app
        self._server_state = server_state
        self.app_state = app_state
        self._loop = _loop or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self.client: tuple[str, int] | None = None
        extensions = []
        if config.ws_per_message_deflate:
            # Each message compressed on its own, both ways: the server's frames can then be
            # compressed once for every connection, and no connection holds a compressor.
            extensions = [
                ServerPerMessageDeflateFactory(
                    server_no_context_takeover=True, client_no_context_takeover=True
                )
            ]
        self._conn = _Connection(
            extensions=extensions, max_size=config_max_size(config), logger=log
        )
        self._response: Response | None = None
        self._accepted = False
        self._connect_pending = False
        self._close_sent = False
        self._disconnect_code: int | None = None
        self._deflate_bits: int | None = None
        # Messages the app has not read yet; a list only while there are any.
        self._inbox: list[tuple[bool, bytes]] | None = None
        self._fragments: list[bytes] | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._read_paused = False
        self._write_paused = False
        self._timer: asyncio.TimerHandle | None = None  # the next ping, or a pong's deadline
        self._ping_payload: bytes | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        self._server_state.connections.add(self)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (str(peer[0]), int(peer[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timers()
        if self._disconnect_code is None:
            self._disconnect_code = 1005 if self._accepted else 1006
        self._accepted = True  # nothing can be answered any more
        self._close_sent = True
        self._server_state.connections.discard(self)
        self._wake_reader()
        self._wake_writers()
        self._response = None

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_writers()

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        conn.receive_data(data)
        for event in conn.events_received():
            if isinstance(event, WsFrame):
                self._frame(event)
            elif isinstance(event, Request):
                # Nothing after the request counts: a client sends no frame before the 101.
                self._handshake(event)
                break
        if conn.parser_exc is not None:
            self._flush()
            self._peer_gone(conn.close_sent.code if conn.close_sent else 1006)
            self._transport_close()
            return
        self._flush()

    # --- uvicorn ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server is stopping: tell the peer 1012 (restarting) and let it go."""
        self._stop_timers()
        if self._close_sent:
            self._transport_close()
            return
        if self._accepted:
            self._peer_gone(1012)
            self._close_sent = True
            with contextlib.suppress(InvalidState):
                self._conn.send_close(1012)
            self._flush()
        else:
            self._reject(500, "Internal Server Error")
        self._transport_close()
        transport = self._transport
        if transport is not None:
            # close() waits for the peer to read what is buffered: a stalled one is cut off.
            self._loop.call_later(CLOSE_DRAIN_SECONDS, transport.abort)

    # --- the handshake and the app --------------------------------------------------------------

    def _handshake(self, request: Request) -> None:
        conn = self._conn
        response = conn.accept(request)
        if response.status_code != 101:
            conn.send_response(response)
            self._close_sent = self._accepted = True
            self._flush()
            self._transport_close()
            return
        self._response = response
        for extension in conn.extensions:
            if isinstance(extension, PerMessageDeflate):
                self._deflate_bits = extension.local_max_window_bits
        # The handshake's parser keeps the request alive as long as it runs: frames get a
        # parser of their own, and the request (a few KB per connection) goes.
        self._conn = _Connection(state=OPEN, max_size=config_max_size(self._config), logger=log)
        self._conn.extensions = conn.extensions
        config = self._config
        raw_path, _, query = request.path.partition("?")
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.raw_items()
        ]
        subprotocols = [
            token.strip()
            for header in request.headers.get_all("Sec-WebSocket-Protocol")
            for token in header.split(",")
        ]
        transport = self._transport
        assert transport is not None
        local = transport.get_extra_info("sockname")
        scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": _asgi_info(config.asgi_version),
            "http_version": "1.1",
            "scheme": "wss" if transport.get_extra_info("sslcontext") else "ws",
            "server": tuple(local[:2]) if isinstance(local, tuple) else None,
            "client": self.client,
            "root_path": config.root_path,
            "path": config.root_path + unquote(raw_path),
            "raw_path": (config.root_path + raw_path).encode("ascii"),
            "query_string": query.encode("ascii"),
            "headers": headers,
            "subprotocols": tuple(subprotocols),
            "state": self.app_state.copy(),
            "extensions": {WIRE: self},
        }
        self._connect_pending = True
        # The app's coroutine is the task itself (no wrapper frame kept per connection); how it
        # ended is looked at when it is done.
        task = self._loop.create_task(self._app(scope, self.receive, self.asgi_send))
        tasks = self._server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(self._app_done)

    def _app_done(self, task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None and not isinstance(error, WireClosed):
            log.error("exception in the ASGI application", exc_info=error)
            self._reject(500, "Internal Server Error")
        elif not self._accepted:
            log.error("the ASGI application returned without accepting the WebSocket")
            self._reject(500, "Internal Server Error")
        if self._close_timer is None:
            self._transport_close()
        # else: a close frame is on its way; the peer's answer or the drain timer ends it.

    def _reject(self, status: int, text: str) -> None:
        if self._accepted:
            return
        self._accepted = self._close_sent = True
        self._response = None
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(self._conn.reject(status, text).serialize())
        self._transport_close()

    async def receive(self) -> dict[str, Any]:
        """ASGI receive."""
        if self._connect_pending:
            self._connect_pending = False
            return {"type": "websocket.connect"}
        item = await self._next()
        if item is None:
            return {"type": "websocket.disconnect", "code": self._disconnect_code or 1006}
        is_text, data = item
        if not is_text:
            return {"type": "websocket.receive", "bytes": data}
        try:
            return {"type": "websocket.receive", "text": data.decode()}
        except UnicodeDecodeError:
            self.close_now(1007, "invalid UTF-8")
            return {"type": "websocket.disconnect", "code": 1007}

    async def asgi_send(self, message: dict[str, Any]) -> None:
        """ASGI send."""
        kind = message["type"]
        if not self._accepted:
            if kind == "websocket.accept":
                await self.accept(message.get("subprotocol"), message.get("headers") or ())
            elif kind == "websocket.close":
                self._peer_gone(1006)
                self._reject(HTTPStatus.FORBIDDEN, "")
            else:
                raise RuntimeError(
                    f"expected 'websocket.accept' or 'websocket.close', got {kind!r}"
                )
        elif kind == "websocket.send":
            data = message.get("bytes")
            if data is not None:
                await self._write_when_ready(binary_frame(data))
            else:
                text = message.get("text") or ""
                await self._write_when_ready(self._frame_bytes(ControlFrame(text.encode())))
        elif kind == "websocket.close":
            self.close_now(message.get("code") or 1000, message.get("reason") or "")
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an open WebSocket")

    # --- the Wire API -------------------------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """Finish the handshake (101); keepalive pings start with it."""
        if self._accepted:
            if self._disconnect_code is not None:
                raise WireClosed()
            return
        response = self._response
        assert response is not None
        self._response = None
        transport = self._transport
        if transport is None or transport.is_closing():
            raise WireClosed()
        extra = [*self._server_state.default_headers, *headers]
        del response.headers["Date"]
        for name, value in extra:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        if subprotocol:
            response.headers["Sec-WebSocket-Protocol"] = subprotocol
        self._accepted = True
        transport.write(response.serialize())
        interval = self._config.ws_ping_interval
        if interval:
            self._timer = self._loop.call_later(interval, self._ping)

    async def read(self) -> bytes | None:
        """The next message from the peer (text as UTF-8 bytes, unchecked), None once gone."""
        self._connect_pending = False
        # The wait is inlined rather than awaiting _next(): an idle connection waits here,
        # and every nested coroutine frame would be kept by each one.
        while not self._inbox:
            if self._disconnect_code is not None:
                return None
            waiter = self._read_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._read_waiter = None
        return self._take()[1]

    @property
    def compressed(self) -> bool:
        """True when frames go out compressed (the peer negotiated permessage-deflate)."""
        return self._deflate_bits is not None

    def try_send(self, item: Frame) -> bool:
        """Write a prepared frame now if the transport takes data; False if it would wait."""
        if self._write_paused or self._close_sent:
            return False
        transport = self._transport
        assert transport is not None
        bits = self._deflate_bits
        transport.write(item.wire if bits is None else item.deflated(bits))
        return True

    async def send(self, item: Frame) -> None:
        """Write a prepared frame, waiting while the peer reads slowly (flow control)."""
        await self._write_when_ready(self._frame_bytes(item))

    async def send_many(self, items: Sequence[Frame]) -> None:
        """Write several prepared frames in one go, with the same flow control."""
        bits = self._deflate_bits
        if bits is None:
            data = b"".join([item.wire for item in items])
        else:
            data = b"".join([item.deflated(bits) for item in items])
        await self._write_when_ready(data)

    async def close(self, code: int, reason: str = "") -> None:
        """`close_now`, for callers that may also hold an ASGI-only connection."""
        self.close_now(code, reason)

    def close_now(
        self, code: int, reason: str = "", drain_seconds: float = CLOSE_DRAIN_SECONDS
    ) -> None:
        """Close with `code` now, without waiting for the transport to be writable: the close
        frame goes behind whatever the peer has not read yet, and a peer that doesn't read it
        (and answer) within `drain_seconds` is cut off."""
        if not self._accepted:
            self._peer_gone(1006)
            self._reject(HTTPStatus.FORBIDDEN, "")
            return
        if self._close_sent:
            return
        self._close_sent = True
        self._peer_gone(code)
        self._stop_timers()
        try:
            self._conn.send_close(code, reason)
        except InvalidState:
            return
        self._flush()
        transport = self._transport
        assert transport is not None
        if self._read_paused:
            self._read_paused = False
            transport.resume_reading()  # to see the peer's answer
        self._close_timer = self._loop.call_later(drain_seconds, transport.abort)

    # --- internals ----------------------------------------------------------------------------

    def _frame_bytes(self, item: Frame) -> bytes:
        bits = self._deflate_bits
        return item.wire if bits is None else item.deflated(bits)

    async def _write_when_ready(self, data: bytes) -> None:
        while self._write_paused and not self._close_sent:
            waiter = self._drain_waiter
            if waiter is None or waiter.done():
                waiter = self._drain_waiter = self._loop.create_future()
            await asyncio.shield(waiter)
        if self._close_sent:
            raise WireClosed()
        transport = self._transport
        assert transport is not None
        transport.write(data)

    async def _next(self) -> tuple[bool, bytes] | None:
        while not self._inbox:
            if self._disconnect_code is not None:
                return None
            waiter = self._read_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._read_waiter = None
        return self._take()

    def _take(self) -> tuple[bool, bytes]:
        inbox = self._inbox
        assert inbox is not None
        item = inbox.pop(0)
        if not inbox:
            self._inbox = None
        if self._read_paused and self._inbox is None:
            self._read_paused = False
            transport = self._transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
        return item

    def _frame(self, frame: WsFrame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._deliver(opcode is Opcode.TEXT, bytes(frame.data))
            else:
                self._fragments = [bytes(frame.data), b"T" if opcode is Opcode.TEXT else b"B"]
        elif opcode is Opcode.CONT:
            fragments = self._fragments
            if fragments is None:
                return
            kind = fragments.pop()
            fragments.append(bytes(frame.data))
            if frame.fin:
                self._fragments = None
                self._deliver(kind == b"T", b"".join(fragments))
            else:
                fragments.append(kind)
        elif opcode is Opcode.PONG:
            self._pong(bytes(frame.data))
        elif opcode is Opcode.CLOSE:
            if self._close_sent:
                self._transport_close()  # the peer answered our close: done
                return
            received = self._conn.close_rcvd
            self._peer_gone(received.code if received is not None else 1005)
            self._close_sent = True
            self._flush()  # websockets queued the echo of the close frame
            self._transport_close()
        # Pings are answered by websockets itself (the pong is flushed after the batch).

    def _deliver(self, is_text: bool, data: bytes) -> None:
        if self._close_sent:
            return  # past our close: the app reads no more
        if self._inbox is None:
            self._inbox = []
        self._inbox.append((is_text, data))
        self._wake_reader()
        if not self._read_paused:
            # Until the app has read it, don't take more: the peer's sends wait in its buffers.
            self._read_paused = True
            transport = self._transport
            if transport is not None:
                transport.pause_reading()

    def _peer_gone(self, code: int) -> None:
        if self._disconnect_code is None:
            self._disconnect_code = code
        self._wake_reader()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writers(self) -> None:
        waiter = self._drain_waiter
        self._drain_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _flush(self) -> None:
        output = self._conn.data_to_send()
        if output:
            data = b"".join(output)
            transport = self._transport
            if data and transport is not None and not transport.is_closing():
                transport.write(data)

    def _transport_close(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.close()

    def _stop_timers(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._ping_payload = None

    # --- keepalive ----------------------------------------------------------------------------

    def _ping(self) -> None:
        self._timer = None
        if self._close_sent:
            return
        # A random payload: a late pong to an earlier ping doesn't count for this one.
        payload = self._ping_payload = struct.pack("!I", random.getrandbits(32))
        try:
            self._conn.send_ping(payload)
        except InvalidState:
            return
        self._flush()
        timeout = self._config.ws_ping_timeout
        if timeout:
            self._timer = self._loop.call_later(timeout, self._pong_missed)
        else:
            self._timer = self._loop.call_later(self._config.ws_ping_interval, self._ping)

    def _pong(self, payload: bytes) -> None:
        if self._ping_payload is None or payload != self._ping_payload:
            return
        self._ping_payload = None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._config.ws_ping_interval, self._ping)

    def _pong_missed(self) -> None:
        """The peer did not answer a ping in time: it is gone, or as good as gone."""
        self._timer = None
        self._ping_payload = None
        if self._close_sent:
            return
        self._close_sent = True
        self._peer_gone(1011)
        with contextlib.suppress(InvalidState):
            self._conn.fail(1011, "keepalive ping timeout")
        self._flush()
        transport = self._transport
        if transport is not None:
            transport.abort()  # a dead peer reads nothing: don't wait for buffers to drain


_ASGI_INFO: dict[str, dict[str, str]] = {}


def _asgi_info(version: str) -> dict[str, str]:
    """The scope's `asgi` entry, one dict for all connections (apps only read it)."""
    info = _ASGI_INFO.get(version)
    if info is None:
        info = _ASGI_INFO[version] = {"version": version, "spec_version": "2.4"}
    return info


def wire_of(scope: Mapping[str, Any]) -> LiveWebSocketProtocol | None:
    """The connection behind a WebSocket scope when it is served by LiveWebSocketProtocol."""
    found = (scope.get("extensions") or {}).get(WIRE)
    return found if isinstance(found, LiveWebSocketProtocol) else None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keywords of `uvicorn.run`/`uvicorn.Config` that put /ws on this protocol."""
    return {
        "ws": LiveWebSocketProtocol,
        "ws_max_size": limits.MAX_WS_MESSAGE_BYTES,
        "ws_ping_interval": settings.ping_interval,
        "ws_ping_timeout": settings.ping_timeout,
        "ws_per_message_deflate": settings.ws_compression,
    }
