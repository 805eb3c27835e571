"""Writers and viewers spread over a cluster's nodes, and the checks that nothing was lost,
doubled or left behind."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from imagechat.client import ApiError, ImageChatClient, LiveClient
from tests.cluster.processes import Node


@dataclass
class Viewer:
    client: LiveClient
    node: int


@dataclass
class Writers:
    """`count` writers, each writing to the images in turn through the nodes in turn.

    A write that fails on a node (killed, stopping) is retried on the next one with the same
    broadcastId: the server applies it once. `failed` counts writes that never got through.
    """

    nodes: list[Node]
    tenant: str
    token: str
    images: list[str]
    count: int = 3
    pause: float = 0.05  # between two writes of one writer
    done: int = 0
    failed: int = 0
    retried: int = 0
    chats: dict[str, list[str]] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        clients = [ImageChatClient(node.url, self.tenant, token=self.token) for node in self.nodes]
        try:
            await asyncio.gather(*(self._writer(n, clients, stop) for n in range(self.count)))
        finally:
            for client in clients:
                await client.aclose()

    async def _writer(self, n: int, clients: list[ImageChatClient], stop: asyncio.Event) -> None:
        turn = itertools.count(n)
        for i in itertools.count():
            if stop.is_set():
                return
            image = self.images[(n + i) % len(self.images)]
            broadcast_id = str(uuid.uuid4())
            for attempt in range(40):
                client = clients[next(turn) % len(clients)]
                try:
                    mine = self.chats.setdefault(image, [])
                    if i % 3 == 2 and mine:
                        await client.add_comment(mine[-1], f"w{n} {i}", broadcast_id=broadcast_id)
                    else:
                        made = await client.create_chat(
                            image, n, i % 100, f"w{n} {i}", broadcast_id=broadcast_id
                        )
                        mine.append(made["chat"]["id"])
                    self.done += 1
                    break
                except (httpx.HTTPError, ApiError) as error:
                    if isinstance(error, ApiError) and error.status < 500:
                        raise
                    self.retried += 1
                    await asyncio.sleep(0.05 * min(attempt + 1, 5))
            else:
                self.failed += 1
            await asyncio.sleep(self.pause)


async def new_tenant(node: Node) -> tuple[str, str]:
    """A tenant made through the CLI's store on the cluster's database, and a guest token."""
    from imagechat.storage.store import Store

    tenant = f"t{uuid.uuid4().hex[:10]}"
    store = await Store.open(node.database_url)
    try:
        await store.create_tenant(tenant)
    finally:
        await store.close()
    async with ImageChatClient(node.url, tenant) as rest:
        session = await rest.guest_session("Writer")
    return tenant, str(session["token"])


async def open_viewers(
    nodes: list[Node], tenant: str, images: list[str], per_node: int
) -> list[Viewer]:
    viewers = [
        Viewer(LiveClient(node.url, tenant, backoff_base=0.05, backoff_max=0.5), i)
        for i, node in enumerate(nodes)
        for _ in range(per_node)
    ]
    for viewer in viewers:
        viewer.client.start()
    await asyncio.gather(*(v.client.subscribe(i, timeout=20) for v in viewers for i in images))
    return viewers


async def truth(node: Node, tenant: str, images: list[str]) -> dict[str, dict[str, Any]]:
    async with ImageChatClient(node.url, tenant) as rest:
        return {image: await rest.list_chats(image) for image in images}


async def converged_after(
    viewers: list[Viewer], expected: dict[str, dict[str, Any]], limit: float
) -> float:
    """Seconds until every viewer reached the expected offsets; fails after `limit`."""
    start = time.monotonic()
    while True:
        behind = [
            (v.node, image, v.client.channels[image].offset, wanted["offset"])
            for v in viewers
            for image, wanted in expected.items()
            if v.client.channels[image].offset < wanted["offset"]
        ]
        if not behind:
            return time.monotonic() - start
        if time.monotonic() - start > limit:
            raise AssertionError(f"not converged after {limit} s: {behind[:5]}")
        await asyncio.sleep(0.02)


def check_exactly_once(viewers: list[Viewer], expected: dict[str, dict[str, Any]]) -> int:
    """Every viewer saw offsets 1..top of each image once, in order, and mirrors the database.

    Drains the viewers' event queues; returns how many events they received in all.
    """
    total = 0
    for viewer in viewers:
        client = viewer.client
        seen: dict[str, list[int]] = {image: [] for image in expected}
        while not client.events.empty():
            event = client.events.get_nowait().event
            seen[event["urlId"]].append(event["offset"])
        for image, wanted in expected.items():
            assert seen[image] == list(range(1, wanted["offset"] + 1)), (viewer.node, image)
            mirror = client.channels[image].chats
            assert mirror == {chat["id"]: chat for chat in wanted["chats"]}, (viewer.node, image)
            total += len(seen[image])
        assert client.stats.duplicates == 0, viewer.node
        assert client.stats.snapshots == 0, "a viewer had to reload although the log was whole"
    return total


async def cross_node_latency(
    nodes: list[Node], tenant: str, token: str, viewers: list[Viewer], image: str, writes: int
) -> list[float]:
    """Seconds from a write on one node to its event at a viewer on another, per write.

    Fails unless Redis carried most of them. Without Redis a node learns of another node's
    event only from its head check, which reads it from the log (a repair), every time; with
    Redis a repair happens only when a head check runs while the event is on its way.
    """
    latencies = []
    carried = 0
    for i in range(writes):
        source = i % len(nodes)
        target = next(v for v in viewers if v.node != source and v.node < len(nodes))
        repairs = nodes[target.node].health()["repairs"]
        async with ImageChatClient(nodes[source].url, tenant, token=token) as rest:
            started = time.monotonic()
            made = await rest.create_chat(image, 50, 50, f"probe {i}")
        channel = target.client.channels[image]
        while made["chat"]["id"] not in channel.chats:
            if time.monotonic() - started > 10:
                raise AssertionError("a probe never arrived")
            await asyncio.sleep(0.002)
        latencies.append(time.monotonic() - started)
        carried += nodes[target.node].health()["repairs"] == repairs
    assert carried * 2 >= writes, f"only {carried} of {writes} probes came through Redis"
    return latencies


async def close_all(viewers: list[Viewer]) -> None:
    await asyncio.gather(*(v.client.close() for v in viewers))
