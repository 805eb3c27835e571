"""What is shared by every node besides events: rate limits counted in Redis, the lock that
gives periodic jobs one runner, and /healthz."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from imagechat.domain.errors import RateLimited
from imagechat.storage.locks import ClusterLock
from imagechat.storage.store import Store
from imagechat.web.ratelimit import LIMITER_CLIENT, ClusterRateLimiter, RateLimiter, limiter_for
from tests.cluster.processes import REDIS_SERVER, RedisServer
from tests.conftest import missing_service


@pytest.fixture()
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    if not os.path.exists(REDIS_SERVER):
        missing_service(f"{REDIS_SERVER} is missing (apt-get install redis-server)")
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture()
async def two_limiters(redis: RedisServer) -> AsyncIterator[list[ClusterRateLimiter]]:
    limiters = [ClusterRateLimiter(2, 10, redis.url) for _ in range(2)]
    for limiter in limiters:
        limiter.start()
    yield limiters
    for limiter in limiters:
        await limiter.close()


def test_the_limiter_follows_the_broker() -> None:
    assert type(limiter_for(20, 120, "memory://")) is RateLimiter
    assert type(limiter_for(20, 120, "redis://127.0.0.1:1/0")) is ClusterRateLimiter
    assert type(limiter_for(0, 120, "redis://127.0.0.1:1/0")) is RateLimiter  # off


async def test_a_client_spread_over_nodes_gets_the_limit_once(
    two_limiters: list[ClusterRateLimiter],
) -> None:
    allowed = 0
    refused = 0
    for i in range(40):  # alternating nodes, as a balancer without stickiness would
        try:
            two_limiters[i % 2].check("acme|10.0.0.1")
            allowed += 1
        except RateLimited as error:
            refused += 1
            assert error.retry_after >= 1
        await asyncio.sleep(0.005)  # the count reaches Redis in the background
    # Each node alone would have let 10 + 10 through (its own burst): together, about one.
    assert allowed <= 13, allowed
    assert refused >= 27
    assert sum(limiter.cluster_refusals for limiter in two_limiters) > 0
    two_limiters[0].check("acme|10.0.0.2")  # other keys are not affected


async def test_closing_the_limiter_closes_its_redis_connections(redis: RedisServer) -> None:
    import redis.asyncio as aioredis

    async def limiter_clients() -> int:
        clients = await admin.client_list()
        return sum(1 for client in clients if client.get("name") == LIMITER_CLIENT)

    admin = aioredis.Redis.from_url(redis.url)
    limiter = ClusterRateLimiter(5, 5, redis.url)
    limiter.start()
    try:
        limiter.check("k")
        for _ in range(100):  # the hit reaches Redis in the background
            if await limiter_clients():
                break
            await asyncio.sleep(0.02)
        assert await limiter_clients() == 1
        await limiter.close()
        for _ in range(100):
            if not await limiter_clients():
                break
            await asyncio.sleep(0.02)
        assert await limiter_clients() == 0
    finally:
        await admin.aclose()


async def test_without_redis_each_node_still_limits(tmp_path: Path) -> None:
    limiter = ClusterRateLimiter(1, 3, "redis://127.0.0.1:1/0")  # nothing listens there
    limiter.start()
    try:
        for _ in range(3):
            limiter.check("k")
        with pytest.raises(RateLimited):
            limiter.check("k")
    finally:
        await limiter.close()


@pytest.mark.postgres
async def test_one_node_at_a_time_holds_the_jobs_lock(postgres_database_url: str) -> None:
    stores = [await Store.open(postgres_database_url) for _ in range(2)]
    locks = [ClusterLock(store.engine, "test:jobs") for store in stores]
    try:
        assert await locks[0].acquire()
        assert await locks[0].acquire(), "the holder keeps it"
        assert not await locks[1].acquire()
        # The holder's connection dies (as with its node): PostgreSQL frees the lock with it.
        async with stores[1].engine.connect() as conn:
            killed = await conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND granted AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            await conn.commit()
        assert killed == 1
        for _ in range(100):  # the backend exits a moment after it is told to
            if await locks[1].acquire():
                break
            await asyncio.sleep(0.05)
        assert locks[1].held
        assert not await locks[0].acquire(), "the old holder noticed and did not take it back"
        await locks[1].release()
        assert not locks[1].held
    finally:
        for lock in locks:
            await lock.release()
        for store in stores:
            await store.close()


async def test_on_sqlite_the_one_process_always_holds_it(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        assert await ClusterLock(store.engine, "test:jobs").acquire()
    finally:
        await store.close()


async def test_healthz_of_one_process_is_ok(tmp_path: Path) -> None:
    from tests.conftest import app_settings, running_app

    settings = app_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    async with running_app(settings, None) as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "broker": "memory",
        "connections": 0,
        "repairs": 0,
    }
