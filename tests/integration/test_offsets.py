"""Offsets under concurrency: many writers on ONE channel get exactly 1..N, no gap, no twin,
and the event log holds exactly those N events, each matching the answer its writer got."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from restkit import Api
from sqlalchemy.ext.asyncio import create_async_engine

from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.storage.engine import create_engine
from imagechat.storage.store import Store, WriteOutcome
from imagechat.storage.tables import channels, events

WRITERS = 60
URL_ID = "busy.jpg"


def actor(n: int) -> User:
    return User(id=f"guest:w{n % 7}", name=f"Writer {n % 7}", avatar_url=None, role="guest")


async def create(store: Store, tenant: Tenant, n: int) -> WriteOutcome:
    bid = str(uuid.uuid4())
    who = actor(n)
    operation = writes.create_chat(who, bid, URL_ID, n % 101, 50.0, f"chat {n}", None, None)
    return await store.write(tenant, who, bid, "create_chat", operation)


async def event_log(store: Store, tenant: Tenant) -> list[tuple[int, dict[str, Any]]]:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            sa.select(events.c.offset, events.c.payload)
            .select_from(events.join(channels, channels.c.id == events.c.channel_id))
            .where(channels.c.tenant_id == tenant.id, channels.c.url_id == URL_ID)
            .order_by(events.c.offset)
        )
        return [(int(row.offset), orjson.loads(row.payload)) for row in result]


async def assert_contiguous(store: Store, tenant: Tenant, outcomes: list[WriteOutcome]) -> None:
    count = len(outcomes)
    answers = [orjson.loads(outcome.body) for outcome in outcomes]
    offsets = sorted(answer["offset"] for answer in answers)
    assert offsets == list(range(1, count + 1)), offsets
    for outcome, answer in zip(outcomes, answers, strict=True):
        assert outcome.event is not None
        assert outcome.event.offset == answer["offset"]
        assert orjson.loads(outcome.event.data)["offset"] == answer["offset"]

    log = await event_log(store, tenant)
    assert [offset for offset, _ in log] == list(range(1, count + 1))
    by_offset = {answer["offset"]: answer for answer in answers}
    for offset, payload in log:
        assert payload["offset"] == offset
        assert payload["chat"] == by_offset[offset]["chat"]
        assert payload["comment"] == by_offset[offset]["comment"]
    snapshot = await store.snapshot(tenant, URL_ID)
    assert snapshot.offset == count
    assert len(snapshot.chats) == count


async def test_concurrent_store_writes_on_one_channel(store: Store, tenant: Tenant) -> None:
    outcomes = await asyncio.gather(*(create(store, tenant, n) for n in range(WRITERS)))
    await assert_contiguous(store, tenant, list(outcomes))


async def test_concurrent_http_writes_on_one_channel(api: Api) -> None:
    tokens = [await api.guest(f"W{n}") for n in range(5)]

    async def post(n: int) -> dict[str, Any]:
        body = {
            "urlId": URL_ID,
            "x": n % 101,
            "y": 1,
            "comment": f"chat {n}",
            "broadcastId": str(uuid.uuid4()),
        }
        answer = await api.post("/chats", json=body, token=tokens[n % 5])
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    answers = await asyncio.gather(*(post(n) for n in range(WRITERS)))
    assert sorted(a["offset"] for a in answers) == list(range(1, WRITERS + 1))
    history = await api.events(URL_ID, since=0)
    assert [e["offset"] for e in history["events"]] == list(range(1, WRITERS + 1))
    by_offset = {a["offset"]: a for a in answers}
    for event in history["events"]:
        assert event["chat"] == by_offset[event["offset"]]["chat"]
    log = await event_log(api.store, api.tenant)
    assert len(log) == WRITERS


async def test_concurrent_mixed_writes_on_one_channel(store: Store, tenant: Tenant) -> None:
    """Replies and moves take offsets from the same head as new chats."""
    first = await create(store, tenant, 0)
    chat_id = orjson.loads(first.body)["chat"]["id"]
    author = actor(0)

    async def reply(n: int) -> WriteOutcome:
        bid = str(uuid.uuid4())
        who = actor(n)
        op = writes.add_comment(who, bid, chat_id, f"reply {n}")
        return await store.write(tenant, who, bid, f"add_comment:{chat_id}", op)

    async def move(n: int) -> WriteOutcome:
        bid = str(uuid.uuid4())
        op = writes.update_chat(author, bid, chat_id, float(n % 100), None, None)
        return await store.write(tenant, author, bid, f"update_chat:{chat_id}", op)

    jobs = [
        (create(store, tenant, n) if n % 3 == 0 else reply(n) if n % 3 == 1 else move(n))
        for n in range(1, WRITERS)
    ]
    outcomes = [first, *await asyncio.gather(*jobs)]
    offsets = sorted(orjson.loads(o.body)["offset"] for o in outcomes)
    assert offsets == list(range(1, WRITERS + 1))
    log = await event_log(store, tenant)
    assert [offset for offset, _ in log] == offsets
    for outcome in outcomes:
        assert outcome.event is not None
        assert log[outcome.event.offset - 1][1] == orjson.loads(outcome.event.data)
    comments_now = (await store.chat_with_comments(tenant, chat_id))[0].comment_count
    assert comments_now == 1 + sum(1 for n in range(1, WRITERS) if n % 3 == 1)


@pytest.mark.parametrize("nodes", [3])
async def test_concurrent_writes_from_several_nodes(
    database_url: str, backend: str, tenant: Tenant, nodes: int
) -> None:
    """Separate engines, as separate server processes would have, share one channel head."""
    if backend == "sqlite":
        # One file, several connections pools: SQLite's own lock orders the writers.
        stores = [Store(create_engine(database_url)) for _ in range(nodes)]
    else:
        # Small pools keep the connection count well under the server's limit.
        stores = [
            Store(create_async_engine(database_url, pool_size=8, max_overflow=0))
            for _ in range(nodes)
        ]
    try:
        outcomes = await asyncio.gather(
            *(create(stores[n % nodes], tenant, n) for n in range(WRITERS))
        )
        await assert_contiguous(stores[0], tenant, list(outcomes))
    finally:
        for node in stores:
            await node.close()
