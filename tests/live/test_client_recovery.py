"""The Python LiveClient as a new user runs it: subscribing while it connects, and reloading
a snapshot through REST errors."""

from __future__ import annotations

import asyncio
import time

from imagechat.client import ImageChatClient, LiveClient
from tests.live.server import LiveServer, _free_port

RUNS = 20


async def test_the_documented_example_delivers_each_new_event_once_every_run(
    server: LiveServer, tenant: str, writer: ImageChatClient
) -> None:
    for i in range(5):
        await writer.create_chat("mockup", i, i, f"earlier {i}")
    for run in range(RUNS):
        # As in docs/python-client.md: subscribe right after entering, while it connects.
        async with LiveClient(server.url, tenant, rest=writer) as live:
            channel = await live.subscribe("mockup")
            start = channel.offset
            made = await writer.create_chat("mockup", 42.5, 10, f"run {run}")
            await writer.add_comment(made["chat"]["id"], "Agreed")
            got = [await asyncio.wait_for(live.events.get(), 5) for _ in range(2)]
            await asyncio.sleep(0.05)  # room for a stray replay to show up
            assert [g.event["offset"] for g in got] == [start + 1, start + 2], run
            assert live.events.empty(), f"run {run}: events delivered twice or replayed"
            assert live.stats.duplicates == 0
            assert len(channel.chats) == 5 + run + 1


async def test_a_reload_survives_rest_errors_and_recovers(
    server: LiveServer, tenant: str, writer: ImageChatClient
) -> None:
    store = server.store
    assert store is not None
    await writer.create_chat("img", 1, 1, "before the restore")
    dead = ImageChatClient(f"http://127.0.0.1:{_free_port()}", tenant)  # nothing listens
    async with LiveClient(server.url, tenant, rest=writer, backoff_base=0.02) as live:
        channel = await live.subscribe("img")
        live.rest = dead  # every snapshot load fails from now on
        row = await store.get_tenant(tenant)
        assert row is not None
        epoch = await store.reset_channel(row, "img")  # a restore: the history changes
        await writer.create_chat("img", 2, 2, "after the restore")  # reveals the new epoch
        deadline = time.monotonic() + 10
        while live.stats.reload_errors < 3:
            assert time.monotonic() < deadline, "the reload was never tried"
            await asyncio.sleep(0.02)
        assert live._task is not None and not live._task.done(), "the client died"
        live.rest = writer  # the REST API is back
        while channel.epoch != epoch or not channel.subscribed.is_set():
            assert time.monotonic() < deadline, "the client did not recover"
            await asyncio.sleep(0.02)
        assert len(channel.chats) == 2  # the restore kept both chats; the snapshot has them
        made = await writer.create_chat("img", 3, 3, "live again")
        item = await asyncio.wait_for(live.events.get(), 5)
        assert item.event["chat"]["id"] == made["chat"]["id"]
        assert item.event["epoch"] == epoch and item.event["offset"] == 2
    await dead.aclose()
