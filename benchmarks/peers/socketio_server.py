"""Peer: a python-socketio server (aiohttp, uvloop) with one room per image.

Subscribers emit `join` with the room name and are answered `joined`; the publisher emits
`publish` with an event, which the server emits to the room as `new-image-chat`. That is the
usual shape of a live-comments feature built on Socket.IO.

    python benchmarks/peers/socketio_server.py --port 9000
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
import uvloop
from aiohttp import web
from peer_cli import address, raise_fd_limit


def build_app() -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins="*",
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        logger=False,
        engineio_logger=False,
    )

    @sio.event
    async def join(sid: str, room: Any) -> None:
        await sio.enter_room(sid, str(room))
        await sio.emit("joined", {"room": str(room)}, to=sid)

    @sio.event
    async def publish(sid: str, event: Any) -> None:
        room = event.get("urlId", "img") if isinstance(event, dict) else "img"
        await sio.emit("new-image-chat", event, room=room)

    app = web.Application()
    sio.attach(app)
    return app


def main() -> None:
    args = address(__doc__)
    raise_fd_limit()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    web.run_app(
        build_app(),
        host=args.host,
        port=args.port,
        backlog=4096,
        access_log=None,
        print=None,
        loop=loop,
        shutdown_timeout=2,
    )


if __name__ == "__main__":
    main()
