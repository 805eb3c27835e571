"""Reconnect storms recover losslessly; a slow consumer is cut off without slowing others."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import orjson
import websockets

from imagechat.client import ImageChatClient, LiveClient
from imagechat.domain.models import User
from imagechat.domain.times import utc_day
from imagechat.storage import writes
from tests.live.server import LiveServer

CLIENTS = 200
MISSED = 50


async def test_reconnect_storm_recovers_every_event_exactly_once(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, usage_flush_seconds=3600)
    await server.start()
    store = server.store
    assert store is not None
    tenant = await store.create_tenant("storm")
    author = User("guest:storm", "Storm", None, "guest")

    async def write(i: int) -> None:
        broadcast_id = str(uuid.uuid4())
        operation = writes.create_chat(author, broadcast_id, "img", 1, 1, f"m{i}", None, None)
        await store.write(tenant, author, broadcast_id, "create_chat", operation)

    clients = [
        LiveClient(server.url, "storm", backoff_base=0.05, backoff_max=1.0) for _ in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        await asyncio.gather(*(client.subscribe("img") for client in clients))
        for i in range(5):
            await write(i)
        await server.stop()  # every client drops (1012) and starts reconnecting
        for i in range(5, 5 + MISSED):
            await write(i)  # committed while nobody is connected
        await server.start()
        final = 5 + MISSED
        deadline = time.monotonic() + 60
        while any(c.channels["img"].offset < final for c in clients):
            assert time.monotonic() < deadline, "clients did not catch up"
            await asyncio.sleep(0.05)
        await write(final)  # and live delivery goes on after the recovery
        while any(c.channels["img"].offset < final + 1 for c in clients):
            assert time.monotonic() < deadline, "clients missed the live event"
            await asyncio.sleep(0.05)
        for client in clients:
            offsets = []
            while not client.events.empty():
                offsets.append(client.events.get_nowait().event["offset"])
            assert offsets == list(range(1, final + 2))  # zero gaps, zero duplicates
            assert client.stats.duplicates == 0
            assert len(client.channels["img"].chats) == final + 1
            assert 1012 in client.stats.closes
    finally:
        await asyncio.gather(*(client.close() for client in clients))
        await server.close()


async def test_slow_consumer_is_closed_with_4008_and_others_stay_on_time(
    sqlite_url: str,
) -> None:
    server = LiveServer(
        sqlite_url, send_buffer=8192, queue_limit=20, batch_window_ms=0, max_batch=1
    )
    await server.start()
    store = server.store
    assert store is not None
    await store.create_tenant("slow")
    ws_url = server.url.replace("http", "ws") + "/ws"
    subscribe = orjson.dumps({"type": "subscribe", "tenantId": "slow", "urlId": "img"}).decode()
    # A reader that stops reading: a tiny receive buffer and no recv() calls.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    try:
        async with (
            ImageChatClient(server.url, "slow") as writer,
            LiveClient(server.url, "slow") as healthy,
            websockets.connect(ws_url, sock=sock, max_queue=1) as stalled,
        ):
            await writer.guest_session("W")
            await healthy.subscribe("img")
            await stalled.send(subscribe)
            await asyncio.sleep(0.1)
            big = "x" * 1900
            latencies = []
            for i in range(400):
                await writer.create_chat("img", 1, 1, f"{i} {big}")
                written = time.monotonic()
                event = await asyncio.wait_for(healthy.events.get(), 5)
                latencies.append(time.monotonic() - written)
                assert event.event["offset"] == i + 1
                if len(server.live.connections) == 1:
                    break  # the server gave up on the stalled reader
            assert len(server.live.connections) == 1, "the stalled connection was not dropped"
            assert max(latencies) < 0.5, f"the healthy client was slowed: {max(latencies):.3f}s"
            # Drain what the stalled socket still holds: its last frame is a 4008 close.
            try:
                while True:
                    await asyncio.wait_for(stalled.recv(), 5)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4008
            metrics = await server.metrics()
            assert metrics["imagechat_slow_consumer_closes_total"] == 1.0
            assert metrics["imagechat_connections"] == 1.0
    finally:
        await server.close()


async def test_dead_peers_are_dropped_by_the_server_ping(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, ping_interval=0.2, ping_timeout=0.3)
    await server.start()
    try:
        assert server.store is not None
        await server.store.create_tenant("ping")
        # A peer that completes the handshake, subscribes, then never reads (so never pongs).
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await writer.drain()
        assert b"101" in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0]
        payload = orjson.dumps({"type": "subscribe", "tenantId": "ping", "urlId": "img"})
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes((0x81, 0x80 | len(payload))) + mask + masked)
        await writer.drain()
        deadline = time.monotonic() + 5
        while not server.live.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(server.live.connections) == 1
        while server.live.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not server.live.connections, "a peer that never answered pings was kept"
        writer.close()
    finally:
        await server.close()


async def test_a_graceful_stop_saves_every_usage_count(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, usage_flush_seconds=3600)
    await server.start()
    store = server.store
    assert store is not None
    await store.create_tenant("count", api_secret="count-secret")
    try:
        async with (
            ImageChatClient(server.url, "count") as writer,
            LiveClient(server.url, "count") as one,
            LiveClient(server.url, "count") as two,
        ):
            await writer.guest_session("W")
            await one.subscribe("img")
            await two.subscribe("img")
            for i in range(7):
                await writer.create_chat("img", 1, 1, f"n{i}")
            for client in (one, two):
                for _ in range(7):
                    await asyncio.wait_for(client.events.get(), 5)
            await server.stop()  # counts are only in memory until this flush
        today = utc_day()
        days = await store.usage("count", today, today)
        assert days[0]["pubSubMessageCount"] == 14
        assert days[0]["peakConnections"] == 2
    finally:
        await server.close()
