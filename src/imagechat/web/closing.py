"""Closing a WebSocket whose peer may have stopped reading.

Through ASGI, a close waits until the transport is writable again, which for a peer that
stopped reading is never, and the connection would linger for ever. When the server is
uvicorn's websockets-sansio protocol (what `imagechat serve` runs), we queue the close frame
behind the pending data directly and abort the transport if the peer hasn't read it in time.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.websockets import WebSocket

from imagechat.web.sinks import server_protocol

ABORT_AFTER_SECONDS = 5.0
ASGI_CLOSE_SECONDS = 2.0


def _protocol(websocket: WebSocket) -> Any:
    protocol = server_protocol(websocket)
    wanted = ("conn", "transport", "writable", "close_sent")
    return protocol if all(hasattr(protocol, name) for name in wanted) else None


async def close(websocket: WebSocket, code: int, reason: str = "") -> None:
    protocol = _protocol(websocket)
    if protocol is None or protocol.writable.is_set():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, reason), ASGI_CLOSE_SECONDS)
        return
    if protocol.close_sent or protocol.transport.is_closing():
        return
    with contextlib.suppress(Exception):
        protocol.conn.send_close(code, reason)
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))
        protocol.close_sent = True
    loop = asyncio.get_running_loop()
    loop.call_later(ABORT_AFTER_SECONDS, protocol.transport.abort)
