"""The write drivers: concurrent writes commit together on SQLite (a savepoint each) and in
parallel on PostgreSQL; a write that fails halfway leaves nothing behind on either."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Generator
from pathlib import Path

import orjson
import pytest

from imagechat.domain import limits
from imagechat.domain.errors import ImageChatError
from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.storage.checkpoints import Checkpointer
from imagechat.storage.drivers import SqliteDriver
from imagechat.storage.sql_dialects import combined_inserts, prepared
from imagechat.storage.steps import Query, one
from imagechat.storage.store import Store

ADA = User(id="g:ada", name="Ada", avatar_url=None, role="guest")


async def _create(store: Store, tenant: Tenant, url_id: str) -> dict[str, object] | ImageChatError:
    bid = str(uuid.uuid4())
    op = writes.create_chat(ADA, bid, url_id, 1, 1, "hello", None, None)
    try:
        return dict(orjson.loads((await store.write(tenant, ADA, bid, "create_chat", op)).body))
    except ImageChatError as error:
        return error


async def _reply(store: Store, tenant: Tenant, chat_id: str) -> dict[str, object] | ImageChatError:
    bid = str(uuid.uuid4())
    op = writes.add_comment(ADA, bid, chat_id, "reply")
    try:
        return dict(orjson.loads((await store.write(tenant, ADA, bid, "add", op)).body))
    except ImageChatError as error:
        return error


async def test_a_write_failing_halfway_leaves_nothing_while_others_commit(
    store: Store, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 4th create on an image fails after taking an offset: that must be undone alone."""
    monkeypatch.setattr(limits, "MAX_CHATS_PER_IMAGE", 3)
    answers = await asyncio.gather(*(_create(store, tenant, "full.jpg") for _ in range(12)))
    made = [a for a in answers if isinstance(a, dict)]
    refused = [a for a in answers if isinstance(a, ImageChatError)]
    assert len(made) == 3 and all(e.code == "too_many_chats" for e in refused)
    assert sorted(a["offset"] for a in made) == [1, 2, 3]  # type: ignore[type-var]
    assert await store.head(tenant, "full.jpg") == (tenant.epoch, 3)
    # Writes to a missing chat fail in the same groups as writes that succeed.
    chat_id = made[0]["chat"]["id"]  # type: ignore[index]
    mixed = await asyncio.gather(
        *(_reply(store, tenant, chat_id if n % 2 else "missing") for n in range(20))
    )
    assert sum(isinstance(a, ImageChatError) for a in mixed) == 10
    offsets = sorted(a["offset"] for a in mixed if isinstance(a, dict))  # type: ignore[type-var]
    assert offsets == list(range(4, 14))
    snapshot = await store.snapshot(tenant, "full.jpg")
    assert snapshot.offset == 13
    assert {c.id: c.comment_count for c in snapshot.chats}[chat_id] == 11


async def test_sqlite_writes_commit_in_groups(tmp_path: object, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("groups are how SQLite's one writer keeps up")
    store = await Store.open(database_url)
    try:
        tenant = await store.create_tenant(f"t-{uuid.uuid4().hex[:8]}")
        driver = store._driver
        assert isinstance(driver, SqliteDriver)
        commits = 0
        original = driver._commit

        def counting(group: list[object]) -> None:
            nonlocal commits
            commits += 1
            original(group)  # type: ignore[arg-type]

        driver._commit = counting  # type: ignore[method-assign]
        answers = await asyncio.gather(*(_create(store, tenant, f"img-{n}") for n in range(40)))
        assert all(isinstance(a, dict) for a in answers)
        assert commits < 40  # writers queued meanwhile rode along
    finally:
        await store.close()


def test_inserts_go_together_in_one_postgresql_statement() -> None:
    a = "INSERT INTO x (a, b) VALUES (?, ?)"
    b = "INSERT INTO y (c) VALUES (?) ON CONFLICT (c) DO NOTHING"
    assert combined_inserts((a,)) == "INSERT INTO x (a, b) VALUES ($1, $2)"
    assert combined_inserts((a, b, a)) == (
        "WITH q0 AS (INSERT INTO x (a, b) VALUES ($1, $2)),"
        " q1 AS (INSERT INTO y (c) VALUES ($3) ON CONFLICT (c) DO NOTHING)"
        " INSERT INTO x (a, b) VALUES ($4, $5)"
    )
    locked = "SELECT 1 FROM chats c WHERE c.id = ? FOR UPDATE OF c"
    assert prepared(locked, "postgresql") == "SELECT 1 FROM chats c WHERE c.id = $1 FOR UPDATE OF c"
    assert prepared(locked, "sqlite") == "SELECT 1 FROM chats c WHERE c.id = ?"


async def test_connections_in_use_count_a_transaction_while_it_runs(store: Store) -> None:
    """What /metrics reports as imagechat_db_pool_in_use{pool="driver"}."""
    driver = store._driver
    gate = threading.Event()

    def held() -> Generator[Query, object, object]:
        if isinstance(driver, SqliteDriver):
            yield from one("SELECT 1")
            gate.wait(10)  # the reader thread holds its connection until the test lets go
            return None
        return (yield from one("SELECT pg_sleep(0.3)"))

    assert store.connections_in_use()["driver"] == 0
    running = asyncio.create_task(driver.read(held()))
    busy = 0
    for _ in range(500):
        busy = store.connections_in_use()["driver"]
        if busy:
            break
        await asyncio.sleep(0.01)
    gate.set()
    await running
    assert busy == 1
    assert store.connections_in_use() == {"driver": 0, "sqlalchemy": 0}


async def test_sqlite_commits_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    """A commit never copies the log into the database file (that wait was the tail of the
    write latency); the Checkpointer does, beside the writer."""
    path = tmp_path / "checkpoints.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}", run_migrations=True)
    try:
        tenant = await store.create_tenant("checkpoints")
        driver = store._driver
        assert isinstance(driver, SqliteDriver)
        driver.checkpointer.stop()  # before the first write: the writer runs alone
        assert isinstance(await _create(store, tenant, "warm.jpg"), dict)
        before = path.stat().st_size
        for n in range(300):
            assert isinstance(await _create(store, tenant, f"img-{n // 400}"), dict)
        wal = Path(f"{path}-wal")
        # Twice past the point (1000 pages of 4 KiB) where a commit would have checkpointed...
        assert wal.stat().st_size > 2 * 1000 * 4096
        assert path.stat().st_size == before  # ...and no commit checkpointed
        beside = Checkpointer(str(path), interval=0.01)
        beside.start()
        beside.committed()
        for _ in range(500):  # the log reaches the database file
            if path.stat().st_size > before:
                break
            await asyncio.sleep(0.01)
        beside.stop()
        assert path.stat().st_size > before
        assert len((await store.snapshot(tenant, "img-0")).chats) == 300
    finally:
        await store.close()
