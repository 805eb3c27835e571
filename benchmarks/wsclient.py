"""A lean WebSocket client for load generation: thousands of subscribers in one process.

Each connection is a bare asyncio Protocol speaking RFC 6455 (and permessage-deflate when asked),
so the load generator spends its core on counting deliveries, not on a client library's
machinery. Events are counted without decoding JSON: every event of every system under test
carries exactly one `"broadcastId":` key, whether it arrives alone, in an array frame (imagechat
batches) or wrapped in a Socket.IO packet. Only sampled connections extract the broadcastIds, to
time publish -> receive.

Dialects (what to say after the handshake):
- "imagechat": send `{"type":"subscribe",...}`, wait for `subscribed`.
- "websockets", "sendloop": the bare broadcast peer and the floor, same subscribe message and
  answer.
- "socketio": Engine.IO v4 / Socket.IO v5 over a WebSocket: `0{...}` -> `40` -> `40{...}` ->
  `42["join",room]` -> `42["joined",...]`; answers Engine.IO pings (`2` -> `3`).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
import zlib
from typing import Any

BID = b'"broadcastId":'
BID_RE = re.compile(rb'"broadcastId":"([^"]+)"')
TAIL = b"\x00\x00\xff\xff"  # the end of every permessage-deflate message (RFC 7692)
# Compressed message -> its text, for connections whose server compresses without context
# takeover: there every message inflates on its own, the same bytes to the same text, so the
# load generator inflates each distinct message once for its unsampled subscribers instead
# of N times on its one core (each browser inflates only its own copy). Sampled subscribers,
# the ones timed, always inflate their own copy.
INFLATED: dict[bytes, bytes] = {}
INFLATED_MAX = 1024
perf_counter = time.perf_counter


def client_frame(payload: bytes, opcode: int = 1) -> bytes:
    """One final, masked client frame (clients must mask; the key is random)."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    if n:
        stream = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
            n, "big"
        )
    return header + key + payload


class Counters:
    """Totals of one measured phase, shared by every subscriber of the run."""

    __slots__ = (
        "delivered",
        "done",
        "expected",
        "finish_cpu",
        "finish_t",
        "frames",
        "last_recv",
        "on_finish",
        "plain_bytes",
        "sample_event",
        "single_event_bytes",
        "wire_bytes",
    )

    def __init__(self) -> None:
        self.sample_event: bytes | None = None
        self.single_event_bytes = 0
        self.on_finish: Any = None
        self.reset(1 << 62)

    def reset(self, expected: int) -> None:
        self.delivered = 0
        self.frames = 0
        self.wire_bytes = 0
        self.plain_bytes = 0
        self.expected = expected
        self.last_recv = 0.0
        self.finish_t = 0.0
        self.finish_cpu: Any = None
        self.done: asyncio.Future[None] | None = None

    def check(self, now: float) -> None:
        if self.delivered >= self.expected and self.done is not None and not self.done.done():
            self.finish_t = now
            if self.on_finish is not None:
                self.finish_cpu = self.on_finish()
            self.done.set_result(None)


class Conn(asyncio.Protocol):
    """One WebSocket connection: a subscriber, or (for the peers) the publisher."""

    def __init__(
        self,
        counters: Counters,
        dialect: str,
        host: str,
        path: str,
        *,
        tenant: str = "bench",
        url_id: str = "img",
        sampled: bool = False,
        deflate: bool = False,
        subscribe: bool = True,
    ) -> None:
        self.c = counters
        self.dialect = dialect
        self.host = host
        self.path = path
        self.tenant = tenant
        self.url_id = url_id
        self.sampled = sampled
        self.offer_deflate = deflate
        self.subscribe = subscribe
        self.transport: asyncio.Transport | None = None
        self.open = False
        self.alive = False
        self.buf = b""
        self.key = base64.b64encode(os.urandom(16)).decode()
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()  # subscribed / publisher ready
        self.events = 0  # events received in the current phase
        self.samples: list[tuple[float, bytes]] = []  # (receive time, broadcastId)
        self.close_code: int | None = None
        self.error: str | None = None
        self.inflater: Any = None
        self.share_inflated = False  # INFLATED may stand in for inflating (see above)
        self.fragments: list[bytes] = []
        self.fragment_rsv1 = False
        self.fragment_wire = 0
        self._writable: asyncio.Future[None] | None = None
        self.on_lost: Any = None

    # --- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.alive = True
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.offer_deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        was_alive = self.alive
        self.alive = False
        if not self.ready.done():
            self.ready.set_exception(
                ConnectionError(self.error or f"closed before ready (code {self.close_code})")
            )
        if was_alive and self.on_lost is not None:
            self.on_lost(self)
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    async def writable(self) -> None:
        if self._writable is not None and not self._writable.done():
            await self._writable

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if not self.open:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            if not self._handshake(data[:end]):
                return
            data = data[end + 4 :]
        n = len(data)
        pos = 0
        c = self.c
        got = 0
        sampled = self.sampled
        found: list[bytes] | None = [] if sampled else None
        while n - pos >= 2:
            b0 = data[pos]
            ln = data[pos + 1] & 0x7F
            if ln < 126:
                start = pos + 2
            elif ln == 126:
                if n - pos < 4:
                    break
                ln = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            else:
                if n - pos < 10:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + ln
            if end > n:
                break
            pos = end
            if b0 == 0x81:  # a final, uncompressed text frame: the hot path
                payload = data[start:end]
                ev = payload.count(BID)
                if ev:
                    got += ev
                    c.frames += 1
                    c.wire_bytes += ln
                    c.plain_bytes += ln
                    if ev == 1 and not c.single_event_bytes:
                        c.single_event_bytes = ln
                        c.sample_event = payload
                    if found is not None:
                        found.extend(BID_RE.findall(payload))
                else:
                    self._control(payload)
            else:
                extra = self._other_frame(b0, data[start:end], ln, found)
                got += extra
        self.buf = data[pos:] if pos < n else b""
        if got:
            now = perf_counter()
            self.events += got
            c.last_recv = now
            c.delivered += got
            if found:
                self.samples.extend([(now, bid) for bid in found])
            if c.delivered >= c.expected:
                c.check(now)

    # --- the rest of RFC 6455 ---------------------------------------------------------------

    def _handshake(self, head: bytes) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            self.error = f"handshake refused: {lines[0]}"
            assert self.transport is not None
            self.transport.close()
            return False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                # Accept any window up to 15 bits. One inflater per connection, kept across
                # messages: a server without context takeover never refers back to an earlier
                # message, so the kept window changes nothing but the cost of a fresh one.
                self.inflater = zlib.decompressobj(-15)
                self.share_inflated = "server_no_context_takeover" in value and not self.sampled
        self.open = True
        if self.dialect != "socketio" and self.subscribe:
            self.send(
                b'{"type":"subscribe","tenantId":"%s","urlId":"%s"}'
                % (self.tenant.encode(), self.url_id.encode())
            )
        elif self.dialect != "socketio":
            self.ready.set_result(None)
        return True

    def _other_frame(self, b0: int, payload: bytes, ln: int, found: list[bytes] | None) -> int:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode >= 8:  # control frames may arrive between fragments
            if opcode == 9:
                self._write(client_frame(payload, 0xA))
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if self.alive:
                    self._write(client_frame(payload[:2], 0x8))
                    assert self.transport is not None
                    self.transport.close()
            return 0
        if opcode in (1, 2):
            self.fragments = [payload]
            self.fragment_rsv1 = bool(b0 & 0x40)
            self.fragment_wire = ln
        elif opcode == 0:
            self.fragments.append(payload)
            self.fragment_wire += ln
        if not fin:
            return 0
        message = b"".join(self.fragments)
        wire = self.fragment_wire
        self.fragments = []
        if self.fragment_rsv1:
            if self.inflater is None:
                self.error = "compressed frame without permessage-deflate"
                return 0
            if self.share_inflated:
                text = INFLATED.get(message)
                if text is None:
                    text = self.inflater.decompress(message + TAIL)
                    if len(INFLATED) >= INFLATED_MAX:
                        INFLATED.clear()
                    INFLATED[message] = text
                message = text
            else:
                message = self.inflater.decompress(message + TAIL)
        ev = message.count(BID)
        if not ev:
            self._control(message)
            return 0
        c = self.c
        c.frames += 1
        c.wire_bytes += wire
        c.plain_bytes += len(message)
        if ev == 1 and not c.single_event_bytes:
            c.single_event_bytes = wire
            c.sample_event = message
        if found is not None:
            found.extend(BID_RE.findall(message))
        return ev

    def _control(self, payload: bytes) -> None:
        """Frames that carry no event: subscription answers, presence, pings of Engine.IO."""
        if self.dialect == "socketio":
            if payload == b"2":
                self.send(b"3")
            elif payload[:1] == b"0":
                self.send(b"40")
            elif payload[:2] == b"40":
                if self.subscribe:
                    self.send(b'42["join","%s"]' % self.url_id.encode())
                elif not self.ready.done():
                    self.ready.set_result(None)
            elif payload[:10] == b'42["joined':
                if not self.ready.done():
                    self.ready.set_result(None)
            elif payload[:2] == b"44":
                self.error = payload.decode(errors="replace")[:200]
            return
        if b'"type":"subscribed"' in payload:
            if not self.ready.done():
                self.ready.set_result(None)
        elif b'"type":"error"' in payload:
            self.error = payload.decode(errors="replace")[:300]
            if not self.ready.done():
                self.ready.set_exception(ConnectionError(self.error))

    def send(self, text: bytes) -> None:
        self._write(client_frame(text))

    def _write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def close(self) -> None:
        if self.transport is not None and self.alive:
            self.alive = False
            self.transport.close()
