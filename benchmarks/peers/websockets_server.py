"""Peer: the bare minimum, a `websockets` (asyncio implementation) broadcast loop on uvloop.

Subscribers connect to /ws and send `{"type":"subscribe",...}`; they are answered
`{"type":"subscribed"}` and added to the set. The publisher connects to /publish; every text
message it sends is handed as is to `websockets.broadcast()` for all subscribers.

    python benchmarks/peers/websockets_server.py --port 9001
"""

from __future__ import annotations

from peer_cli import serve_on_uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

SUBSCRIBERS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/ws"
    try:
        if path.startswith("/publish"):
            async for message in ws:
                broadcast(SUBSCRIBERS, message)
            return
        async for message in ws:
            if isinstance(message, str) and '"type":"subscribe"' in message:
                SUBSCRIBERS.add(ws)
                await ws.send('{"type":"subscribed","tenantId":"bench","urlId":"img"}')
    except ConnectionClosed:
        pass
    finally:
        SUBSCRIBERS.discard(ws)


async def run(host: str, port: int) -> None:
    async with serve(
        handler,
        host,
        port,
        compression=None,
        max_size=1_000_000,
        ping_interval=20,
        ping_timeout=20,
        backlog=4096,
    ) as server:
        await server.serve_forever()


def main() -> None:
    serve_on_uvloop(__doc__, run)


if __name__ == "__main__":
    main()
