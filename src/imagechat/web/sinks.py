"""The connection API the /ws endpoint and its writer use, and its ASGI-only fallback.

Under `imagechat serve` every WebSocket is served by `LiveWebSocketProtocol`
(web/wsprotocol.py), which offers this API itself: prepared frames are written straight to
the transport, plain or compressed once for all. Under any other ASGI server, `AsgiWire`
gives the same API over plain ASGI messages: correct, but every frame goes through the
server's own framing (and compression, if it does any) once per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from starlette.types import Receive, Send

from imagechat.realtime.frames import Frame

ASGI_CLOSE_SECONDS = 2.0


class Wire(Protocol):
    """One accepted-or-accepting WebSocket, as the live endpoint sees it."""

    async def accept(self) -> None: ...

    async def read(self) -> bytes | None:
        """The next message, or None once the peer is gone."""

    def try_send(self, item: Frame) -> bool: ...

    async def send(self, item: Frame) -> None: ...

    async def send_many(self, items: Sequence[Frame]) -> None: ...

    async def close(self, code: int, reason: str = "") -> None:
        """Close with `code` without waiting long for a peer that stopped reading."""


class AsgiWire:
    """The Wire API over an ASGI server's `receive` and `send`."""

    __slots__ = ("_receive", "_send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

    async def accept(self) -> None:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise ConnectionError("the peer left before the handshake")
        await self._send({"type": "websocket.accept"})

    async def read(self) -> bytes | None:
        message: dict[str, Any] = dict(await self._receive())
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is not None:
            return str(text).encode()
        return bytes(message.get("bytes") or b"")

    def try_send(self, item: Frame) -> bool:
        return False  # an ASGI send must be awaited

    async def send(self, item: Frame) -> None:
        await self._send(item.message)

    async def send_many(self, items: Sequence[Frame]) -> None:
        for item in items:
            await self._send(item.message)

    async def close(self, code: int, reason: str = "") -> None:
        # Through ASGI a close waits for the transport to take it: bounded, since a peer that
        # stopped reading would make it wait for ever.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self._send({"type": "websocket.close", "code": code, "reason": reason}),
                ASGI_CLOSE_SECONDS,
            )
