"""Three nodes on one database behind a broker that drops, doubles, reorders and replays
stale messages: the repair path still gives every viewer each event once, in order."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

from imagechat.client import ImageChatClient, LiveClient
from imagechat.storage.store import Store
from tests.live.lossy import LossyBus
from tests.live.server import LiveServer

IMAGES = ["a", "b", "c"]
WRITES_PER_NODE = 24


async def test_a_lossy_broker_loses_nothing_and_doubles_nothing(database_url: str) -> None:
    bus = LossyBus(seed=7)
    store = await Store.open(database_url)
    tenant = f"t-{secrets.token_hex(6)}"
    await store.create_tenant(tenant)
    nodes = [
        LiveServer(database_url, broker=bus.broker(), gap_check_seconds=0.5, write_rate=0)
        for _ in range(3)
    ]
    clients: list[LiveClient] = []
    try:
        for node in nodes:
            node.store = store  # one pool: SQLite wants one writer queue
            await node.start()
        clients = [LiveClient(node.url, tenant) for node in nodes for _ in range(2)]
        for client in clients:
            client.start()
        await asyncio.gather(*(c.subscribe(i) for c in clients for i in IMAGES))

        async def write(node: LiveServer, n: int) -> None:
            async with ImageChatClient(node.url, tenant) as rest:
                await rest.guest_session(f"writer {n}")
                made: list[str] = []
                for i in range(WRITES_PER_NODE):
                    image = IMAGES[i % len(IMAGES)]
                    if i % 4 == 3 and made:
                        await rest.add_comment(made[-1], f"reply {n}.{i}")
                    else:
                        made.append((await rest.create_chat(image, n, i, f"{n}.{i}"))["chat"]["id"])

        await asyncio.gather(*(write(node, n) for n, node in enumerate(nodes)))
        async with ImageChatClient(nodes[0].url, tenant) as reader:
            truth = {image: await reader.list_chats(image) for image in IMAGES}
        deadline = time.monotonic() + 15
        for client in clients:
            for image in IMAGES:
                while client.channels[image].offset < truth[image]["offset"]:
                    assert time.monotonic() < deadline, "a viewer did not converge"
                    await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # room for anything doubled to show up
        for client in clients:
            seen: dict[str, list[int]] = {image: [] for image in IMAGES}
            while not client.events.empty():
                event = client.events.get_nowait().event
                seen[event["urlId"]].append(event["offset"])
            for image in IMAGES:
                assert seen[image] == list(range(1, truth[image]["offset"] + 1))
                expected = {chat["id"]: chat for chat in truth[image]["chats"]}
                assert client.channels[image].chats == expected
            assert client.stats.duplicates == 0 and client.stats.gaps == 0
            assert client.stats.snapshots == 0, "a stale message was taken for a new history"
        assert bus.dropped and bus.doubled and bus.stale
        assert sum(node.live.hub.repairs for node in nodes) > 0
        assert sum(node.live.hub.resets for node in nodes) == 0
    finally:
        await asyncio.gather(*(c.close() for c in clients))
        for node in nodes:
            node.store = None
            with contextlib.suppress(Exception):
                await node.stop()
        await store.close()
