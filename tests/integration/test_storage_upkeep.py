"""Storage that stays bounded and honest: the log trimmed as it grows, a reset never leaving the
floor above the head, usage counted on the right UTC day on rows writers don't queue on, the
tenant cache bounded, old idempotency records purged, and old databases migrated."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from imagechat.domain.models import Tenant, User
from imagechat.domain.times import utc_day
from imagechat.domain.usage import UsageDelta
from imagechat.storage import writes
from imagechat.storage.engine import create_engine
from imagechat.storage.migrate import migrate
from imagechat.storage.store import Store
from imagechat.storage.tables import channels, events, idempotency_keys
from imagechat.storage.tenant_cache import TenantCache

ADA = User(id="g:ada", name="Ada", avatar_url=None, role="guest")


async def _create(store: Store, tenant: Tenant, url_id: str, n: int = 0) -> dict[str, object]:
    bid = str(uuid.uuid4())
    op = writes.create_chat(ADA, bid, url_id, n % 100, 1, f"chat {n}", None, None)
    return dict(orjson.loads((await store.write(tenant, ADA, bid, "create_chat", op)).body))


async def _head(store: Store, tenant: Tenant, url_id: str) -> tuple[int, int, int]:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(channels.c.id, channels.c.top_offset, channels.c.history_floor).where(
                    channels.c.tenant_id == tenant.id, channels.c.url_id == url_id
                )
            )
        ).one()
        stored = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(events).where(events.c.channel_id == row.id)
            )
        ).scalar()
    return int(row.top_offset), int(row.history_floor), int(stored or 0)


async def test_the_log_is_trimmed_to_the_recovery_window_as_it_grows(
    database_url: str, tenant: Tenant
) -> None:
    store = await Store.open(database_url, max_replay=10)
    try:
        for n in range(60):
            await _create(store, tenant, "busy.jpg", n)
        top, floor, stored = await _head(store, tenant, "busy.jpg")
        assert top == 60
        slack = 16  # trimmed a slice at a time, never more than this past the window
        assert 10 <= top - floor <= 10 + slack
        assert stored == top - floor
        # Everything inside the window is recovered; beyond it, a reload.
        recovered = await store.history(tenant, "busy.jpg", tenant.epoch, 50)
        assert recovered.recovered and len(recovered.events) == 10
        assert not (await store.history(tenant, "busy.jpg", tenant.epoch, floor - 1)).recovered
    finally:
        await store.close()


async def test_a_reset_racing_a_trim_never_leaves_the_floor_above_the_head(
    store: Store, tenant: Tenant
) -> None:
    for n in range(30):
        await _create(store, tenant, "restored.jpg", n)
    for _ in range(5):
        await asyncio.gather(store.trim_all_history(5), store.reset_channel(tenant, "restored.jpg"))
        top, floor, stored = await _head(store, tenant, "restored.jpg")
        assert floor <= top
        assert stored == top - floor
        await _create(store, tenant, "restored.jpg")
    top, floor, _ = await _head(store, tenant, "restored.jpg")
    assert (top, floor) == (1, 0)


async def test_reset_orders_epochs_and_works_on_a_fresh_image(store: Store, tenant: Tenant) -> None:
    from imagechat.domain.epochs import generation

    fresh = await store.reset_channel(tenant, "never-written.jpg")
    assert generation(fresh) > generation(tenant.epoch)
    assert await store.head(tenant, "never-written.jpg") == (fresh, 0)
    made = await _create(store, tenant, "never-written.jpg")
    assert made["offset"] == 1
    again = await store.reset_channel(tenant, "never-written.jpg")
    assert generation(again) == generation(fresh) + 1


async def test_usage_of_many_images_is_exact(store: Store, tenant: Tenant) -> None:
    """Writers on many images of one tenant, at once: per-image rows, exact sums."""
    await asyncio.gather(*(_create(store, tenant, f"image-{n % 8}", n) for n in range(48)))
    today = utc_day()
    (day,) = await store.usage(tenant.id, today, today)
    assert (day["conversationsCreated"], day["commentsCreated"]) == (48, 48)


@pytest.fixture()
def auckland() -> Iterator[None]:
    """The server's clock in a time zone 13 hours ahead of UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Auckland"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


async def test_usage_days_are_utc_days_in_any_time_zone(
    store: Store, tenant: Tenant, auckland: None
) -> None:
    assert time.strftime("%Z") in ("NZDT", "NZST")
    day = date(2026, 11, 30)
    await store.add_usage([UsageDelta(tenant.id, day, messages=7, bandwidth=70)])
    found = {d["day"]: d for d in await store.usage(tenant.id, day - timedelta(1), day)}
    assert found[day.isoformat()]["pubSubMessageCount"] == 7
    assert found[(day - timedelta(1)).isoformat()]["pubSubMessageCount"] == 0
    # 23:30 UTC is already tomorrow in Auckland: it still counts for the UTC day.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert utc_day(late) == day
    assert utc_day(late.replace(tzinfo=None)) == day  # naive moments are UTC too


def test_the_tenant_cache_stays_bounded() -> None:
    cache = TenantCache(max_entries=100, ttl=60, unknown_ttl=60)
    for _ in range(5000):
        cache.put(secrets.token_hex(8), None)
    assert len(cache) == 100
    known = Tenant("known", "s", (), False, False, "00000001.000000000000")
    cache.put("known", known)
    assert cache.get("known") is known
    for _ in range(99):
        cache.put(secrets.token_hex(8), None)
    assert cache.get("known") is known  # used recently, so kept
    short = TenantCache(ttl=60, unknown_ttl=0)
    short.put("ghost", None)
    assert short.get("ghost") is not None  # expired at once: read again, not "missing"


async def test_requests_for_random_tenants_leave_the_cache_bounded(store: Store) -> None:
    for _ in range(300):
        assert await store.get_tenant(f"t-{secrets.token_hex(6)}") is None
    assert len(store.tenants.cache) <= store.tenants.cache.max_entries
    store.tenants.cache.max_entries = 50
    for _ in range(100):
        await store.get_tenant(f"t-{secrets.token_hex(6)}")
    assert len(store.tenants.cache) == 50


async def test_idempotency_records_are_purged_after_a_day(store: Store, tenant: Tenant) -> None:
    made = await _create(store, tenant, "image.jpg")
    assert made["offset"] == 1
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.tenant_id == tenant.id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )
    assert await store.purge_idempotency(timedelta(hours=24)) >= 1
    async with store.engine.connect() as conn:
        left = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(idempotency_keys)
                .where(idempotency_keys.c.tenant_id == tenant.id)
            )
        ).scalar()
    assert left == 0


async def test_a_database_of_the_first_schema_is_migrated(empty_database: str) -> None:
    """0001 -> newest: chat counts filled, events named, deleted words blanked in the log."""
    engine = create_engine(empty_database)
    try:
        await migrate(engine, revision="0001")
        moment: object = datetime(2026, 11, 26, 10, tzinfo=UTC)
        if engine.dialect.name == "sqlite":
            moment = "2026-11-26 10:00:00.000000"
        kept = {"id": "m1", "chatId": "c1", "body": "kept words"}
        gone = {"id": "m2", "chatId": "c1", "body": "secret words"}

        def event(offset: int, change: str, comment: dict[str, str]) -> bytes:
            return orjson.dumps(
                {
                    "type": "image-chat-updated",
                    "offset": offset,
                    "change": change,
                    "chat": {"id": "c1"},
                    "comment": comment,
                }
            )

        async with engine.begin() as conn:
            for statement, values in (
                ("INSERT INTO tenants VALUES ('t', 's', '[]', false, false, 'e', :now)", {}),
                ("INSERT INTO users VALUES ('t', 'u', 'U', NULL, 'guest', :now)", {}),
                ("INSERT INTO channels VALUES (1, 't', 'img', 'e', 3, 0)", {}),
                (
                    "INSERT INTO chats VALUES ('c1', 't', 'img', 1, 1, false, 1, 'u', NULL, NULL,"
                    " :now, :now, 3)",
                    {},
                ),
                (
                    "INSERT INTO comments VALUES ('m1', 'c1', 't', 'u', 'kept words', :now, NULL)",
                    {},
                ),
                (
                    "INSERT INTO events VALUES (1, 1, 'e', 'x', 'b1', :p, :now)",
                    {"p": event(1, "comment-added", kept)},
                ),
                (
                    "INSERT INTO events VALUES (1, 2, 'e', 'x', 'b2', :p, :now)",
                    {"p": event(2, "comment-added", gone)},
                ),
                (
                    "INSERT INTO events VALUES (1, 3, 'e', 'x', 'b3', :p, :now)",
                    {"p": event(3, "comment-deleted", gone)},
                ),
            ):
                await conn.execute(sa.text(statement), {"now": moment, **values})
        await migrate(engine)
        async with engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT chat_count FROM channels"))).scalar()
            rows = (
                await conn.execute(
                    sa.text('SELECT "offset", chat_id, comment_id, payload FROM events ORDER BY 1')
                )
            ).all()
    finally:
        await engine.dispose()
    assert count == 1
    named = [(r.chat_id, r.comment_id) for r in rows]
    assert named == [("c1", "m1"), ("c1", "m2"), ("c1", None)]
    payloads = [orjson.loads(r.payload) for r in rows]
    assert payloads[0]["comment"]["body"] == "kept words"
    assert payloads[1]["comment"]["body"] == ""
    assert payloads[2]["commentId"] == "m2" and "comment" not in payloads[2]
    assert b"secret" not in b"".join(bytes(r.payload) for r in rows)


async def test_requests_for_random_tenants_leave_memory_flat(app_client: Any, backend: str) -> None:
    """Every request names its tenant: made-up ones are answered 404 and never pile up.

    Counted: memory allocated by imagechat's own code and still held (the framework keeps
    bounded caches of its own, which fill and empty in cycles of about a thousand paths)."""
    import gc
    import tracemalloc

    if backend != "sqlite":
        pytest.skip("the cache is the same whatever the database; once is enough")
    store = app_client.app.state.services.store
    store.tenants.cache.max_entries = 100

    async def ask(count: int) -> None:
        for _ in range(count):
            answer = await app_client.get(
                f"/api/v1/t-{secrets.token_hex(8)}/chats", params={"urlId": "x"}
            )
            assert answer.status_code == 404

    def retained() -> tracemalloc.Snapshot:
        gc.collect()  # refused requests leave cycles (exceptions and their frames) behind
        return tracemalloc.take_snapshot().filter_traces(ours)

    ours = [tracemalloc.Filter(True, "*/imagechat/*")]
    await ask(200)
    tracemalloc.start()
    try:
        before = retained()
        await ask(1000)
        after = retained()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(store.tenants.cache) <= 100
    assert grown < 64 * 1024, f"{grown} bytes kept by imagechat after 1000 unknown tenants"
