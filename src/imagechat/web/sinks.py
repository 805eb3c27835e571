"""How a writer's frames reach the socket.

`WireSink` hands every subscriber the very same encoded WebSocket frame of an event (built
once by the hub) and writes it straight to the transport of uvicorn's websockets-sansio
protocol, which `imagechat serve` runs. It keeps that protocol's backpressure (waits while the
transport is paused) and is used only where no extension (compression) was negotiated, since
only then are frames identical across connections. Anywhere else, `AsgiSink` goes through the
ASGI interface, sharing one ready-made send message per event instead.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from imagechat.realtime.frames import Frame, text_frame
from imagechat.realtime.writer import Sink


class AsgiSink:
    __slots__ = ("_send",)

    def __init__(self, websocket: WebSocket) -> None:
        self._send = websocket.send

    def try_send(self, item: Frame) -> bool:
        return False  # an ASGI send must be awaited

    async def send(self, item: Frame) -> None:
        await self._send(item.message)

    async def send_payload(self, payload: bytes) -> None:
        await self._send({"type": "websocket.send", "text": payload.decode()})


class WireSink:
    __slots__ = ("_protocol", "_transport", "_writable")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._writable = protocol.writable

    def try_send(self, item: Frame) -> bool:
        protocol = self._protocol
        if not self._writable.is_set() or protocol.disconnected or protocol.close_sent:
            return False
        self._transport.write(item.wire)
        return True

    async def send(self, item: Frame) -> None:
        await self._write(item.wire)

    async def send_payload(self, payload: bytes) -> None:
        await self._write(text_frame(payload))

    async def _write(self, wire: bytes) -> None:
        if not self._writable.is_set():
            await self._writable.wait()  # the peer reads slowly: wait as the protocol would
        protocol = self._protocol
        if protocol.disconnected or protocol.close_sent:
            raise WebSocketDisconnect(1006)
        self._transport.write(wire)


# Where the /ws entry (web/ws.py) keeps the server's own `send`, before any layer wraps it:
# the protocol object it is bound to is what WireSink writes to.
SERVER_SEND = "imagechat.server_send"


def server_protocol(websocket: WebSocket) -> Any:
    """The server's protocol object behind a WebSocket, or None if it can't be found."""
    return getattr(websocket.scope.get(SERVER_SEND), "__self__", None)


def sink_for(websocket: WebSocket, compression_enabled: bool) -> Sink:
    protocol = server_protocol(websocket)
    conn = getattr(protocol, "conn", None)
    usable = (
        not compression_enabled
        and conn is not None
        and getattr(conn, "extensions", None) == []
        and all(
            hasattr(protocol, name)
            for name in ("transport", "writable", "disconnected", "close_sent")
        )
    )
    return WireSink(protocol) if usable else AsgiSink(websocket)


def release_handshake(websocket: WebSocket) -> None:
    """Let go of the handshake's request and response, which the server keeps for the whole
    connection but never reads again after accepting: a few KB per idle connection."""
    protocol = server_protocol(websocket)
    if protocol is not None and getattr(protocol, "handshake_complete", False):
        for name in ("request", "response"):
            if hasattr(protocol, name):
                setattr(protocol, name, None)
