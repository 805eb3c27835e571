"""Races on PostgreSQL, where writers really run side by side (SQLite has one writer at a
time, which hides them). Each race runs many rounds of truly concurrent writes from two Stores
(two server processes' connection pools) and checks what it left behind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from restkit import Api, assert_error, new_bid

from imagechat.domain.errors import ImageChatError, NotFound
from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.storage.store import Store
from imagechat.storage.tables import channels, chats, comments, events

pytestmark = pytest.mark.postgres
ROUNDS = 20
ADA = User(id="g:ada", name="Ada", avatar_url=None, role="guest")
MOD = User(id="sso:mod", name="Mod", avatar_url=None, role="moderator")


@pytest.fixture()
async def nodes(postgres_database_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first, second = Store(_engine(postgres_database_url)), Store(_engine(postgres_database_url))
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def _engine(url: str) -> Any:
    from imagechat.storage.engine import create_engine

    return create_engine(url)


@pytest.fixture()
async def pg_tenant(nodes: tuple[Store, Store]) -> Tenant:
    return await nodes[0].create_tenant(f"t-{uuid.uuid4().hex[:12]}")


async def _write(store: Store, tenant: Tenant, actor: User, name: str, make: Any) -> Any:
    bid = new_bid()
    outcome = await store.write(tenant, actor, bid, name, make(bid))
    return orjson.loads(outcome.body)


async def _attempt(store: Store, tenant: Tenant, actor: User, name: str, make: Any) -> Any:
    """The answer of a write, or the error it was refused with."""
    try:
        return await _write(store, tenant, actor, name, make)
    except ImageChatError as error:
        return error


async def _new_chat(store: Store, tenant: Tenant, url_id: str, replies: int = 0) -> Any:
    made = await _write(
        store,
        tenant,
        ADA,
        "create_chat",
        lambda bid: writes.create_chat(ADA, bid, url_id, 10, 10, "first", None, None),
    )
    comment_ids = [made["comment"]["id"]]
    for n in range(replies):
        reply = await _write(
            store,
            tenant,
            ADA,
            "add_comment",
            lambda bid, n=n: writes.add_comment(ADA, bid, made["chat"]["id"], f"reply {n}"),
        )
        comment_ids.append(reply["comment"]["id"])
    return made["chat"]["id"], comment_ids


async def _log(store: Store, tenant: Tenant, url_id: str) -> list[dict[str, Any]]:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            sa.select(events.c.payload)
            .select_from(events.join(channels, channels.c.id == events.c.channel_id))
            .where(channels.c.tenant_id == tenant.id, channels.c.url_id == url_id)
            .order_by(events.c.offset)
        )
        return [orjson.loads(row.payload) for row in result]


async def _assert_consistent(store: Store, tenant: Tenant, url_id: str) -> list[dict[str, Any]]:
    """Offsets 1..N, and every chat's commentCount equals the comments it really has."""
    log = await _log(store, tenant, url_id)
    assert [event["offset"] for event in log] == list(range(1, len(log) + 1))
    async with store.engine.connect() as conn:
        counted = (
            await conn.execute(
                sa.select(chats.c.id, chats.c.comment_count, sa.func.count(comments.c.id))
                .select_from(chats.outerjoin(comments, comments.c.chat_id == chats.c.id))
                .where(chats.c.tenant_id == tenant.id, chats.c.url_id == url_id)
                .group_by(chats.c.id, chats.c.comment_count)
            )
        ).all()
        orphans = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(comments.outerjoin(chats, chats.c.id == comments.c.chat_id))
                .where(comments.c.tenant_id == tenant.id, chats.c.id.is_(None))
            )
        ).scalar()
    for chat_id, stored, real in counted:
        assert stored == real, (chat_id, stored, real)
        assert real > 0, f"chat {chat_id} has no comment left"
    assert orphans == 0
    return log


async def test_two_deletes_of_one_comment(nodes: tuple[Store, Store], pg_tenant: Tenant) -> None:
    for round_ in range(ROUNDS):
        url_id = f"double-delete-{round_}"
        _, comment_ids = await _new_chat(nodes[0], pg_tenant, url_id, replies=1)
        target = comment_ids[1]
        answers = await asyncio.gather(
            *(
                _attempt(
                    node,
                    pg_tenant,
                    ADA,
                    f"delete_comment:{target}",
                    lambda bid, target=target: writes.delete_comment(ADA, bid, target),
                )
                for node in nodes
            )
        )
        refused = [a for a in answers if isinstance(a, ImageChatError)]
        assert len(refused) == 1, answers
        assert isinstance(refused[0], NotFound) and refused[0].code == "comment_not_found"
        log = await _assert_consistent(nodes[0], pg_tenant, url_id)
        deletions = [e for e in log if e.get("change") == "comment-deleted"]
        assert [e["commentId"] for e in deletions] == [target]


async def test_two_deletes_of_a_last_comment_delete_the_chat_once(
    nodes: tuple[Store, Store], pg_tenant: Tenant
) -> None:
    for round_ in range(ROUNDS // 2):
        url_id = f"last-delete-{round_}"
        chat_id, (only,) = await _new_chat(nodes[0], pg_tenant, url_id)
        answers = await asyncio.gather(
            *(
                _attempt(
                    node,
                    pg_tenant,
                    ADA,
                    f"delete_comment:{only}",
                    lambda bid, only=only: writes.delete_comment(ADA, bid, only),
                )
                for node in nodes
            )
        )
        done = [a for a in answers if not isinstance(a, ImageChatError)]
        assert len(done) == 1 and done[0]["chatId"] == chat_id, answers
        log = await _assert_consistent(nodes[0], pg_tenant, url_id)
        assert [e["type"] for e in log] == ["new-image-chat", "deleted-image-chat"]


async def test_an_edit_racing_a_delete_never_follows_it(
    nodes: tuple[Store, Store], pg_tenant: Tenant
) -> None:
    for round_ in range(ROUNDS):
        url_id = f"edit-delete-{round_}"
        _, comment_ids = await _new_chat(nodes[0], pg_tenant, url_id, replies=1)
        target = comment_ids[1]
        edit = _attempt(
            nodes[0],
            pg_tenant,
            ADA,
            f"edit_comment:{target}",
            lambda bid, target=target: writes.edit_comment(ADA, bid, target, "edited"),
        )
        delete = _attempt(
            nodes[1],
            pg_tenant,
            ADA,
            f"delete_comment:{target}",
            lambda bid, target=target: writes.delete_comment(ADA, bid, target),
        )
        if round_ % 2:  # either one may be sent first
            edited, deleted = await asyncio.gather(edit, delete)
        else:
            deleted, edited = await asyncio.gather(delete, edit)
        assert not isinstance(deleted, ImageChatError), deleted
        log = await _assert_consistent(nodes[0], pg_tenant, url_id)
        changes = [e.get("change") for e in log if e.get("change", "").startswith("comment-")]
        if isinstance(edited, ImageChatError):
            assert edited.code == "comment_not_found"
            assert changes == ["comment-added", "comment-deleted"]
        else:
            assert changes == ["comment-added", "comment-edited", "comment-deleted"]


async def test_a_reply_racing_a_chat_delete_never_outlives_it(
    nodes: tuple[Store, Store], pg_tenant: Tenant
) -> None:
    for round_ in range(ROUNDS):
        url_id = f"reply-delete-{round_}"
        chat_id, _ = await _new_chat(nodes[0], pg_tenant, url_id)
        reply = _attempt(
            nodes[0],
            pg_tenant,
            ADA,
            f"add_comment:{chat_id}",
            lambda bid, chat_id=chat_id: writes.add_comment(ADA, bid, chat_id, "late reply"),
        )
        delete = _attempt(
            nodes[1],
            pg_tenant,
            MOD,
            f"delete_chat:{chat_id}",
            lambda bid, chat_id=chat_id: writes.delete_chat(MOD, bid, chat_id),
        )
        replied, deleted = await asyncio.gather(reply, delete)
        assert not isinstance(deleted, ImageChatError), deleted
        log = await _assert_consistent(nodes[0], pg_tenant, url_id)
        assert log[-1]["type"] == "deleted-image-chat"
        if isinstance(replied, ImageChatError):
            assert replied.code == "chat_not_found"
            assert len(log) == 2
        else:
            assert replied["offset"] < deleted["offset"]


async def test_double_delete_over_http(api: Api, backend: str) -> None:
    """The same race through the REST API: one 200, one 404, one event."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no race to lose")
    token = await api.guest("Ada")
    for _ in range(5):
        made = await api.create_chat(token)
        reply = await api.add_comment(token, made["chat"]["id"], "to delete")
        path = f"/comments/{reply['comment']['id']}"
        first, second = await asyncio.gather(
            api.delete(path, params={"broadcastId": new_bid()}, token=token),
            api.delete(path, params={"broadcastId": new_bid()}, token=token),
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 404], (first.text, second.text)
        assert_error(first if first.status_code == 404 else second, 404, "comment_not_found")
        chat = (await api.get(f"/chats/{made['chat']['id']}")).json()
        assert chat["chat"]["commentCount"] == len(chat["comments"]) == 1


async def test_taking_offsets_burns_no_sequence_values(
    nodes: tuple[Store, Store], pg_tenant: Tenant
) -> None:
    async def last_value() -> int:
        async with nodes[0].engine.connect() as conn:
            return int(
                (await conn.execute(sa.text("SELECT last_value FROM channels_id_seq"))).scalar()
            )

    chat_id, _ = await _new_chat(nodes[0], pg_tenant, "sequence.jpg")
    before = await last_value()
    for n in range(10):
        await _write(
            nodes[n % 2],
            pg_tenant,
            ADA,
            "add_comment",
            lambda bid, n=n: writes.add_comment(ADA, bid, chat_id, f"r{n}"),
        )
    assert await last_value() == before


async def test_ids_are_64_bit(nodes: tuple[Store, Store]) -> None:
    async with nodes[0].engine.connect() as conn:
        found = (
            await conn.execute(
                sa.text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    " WHERE (table_name, column_name) IN"
                    " (('channels', 'id'), ('events', 'channel_id'))"
                )
            )
        ).all()
    assert {(table, column): kind for table, column, kind in found} == {
        ("channels", "id"): "bigint",
        ("events", "channel_id"): "bigint",
    }


async def test_an_unlock_says_the_site_state_another_node_committed(
    nodes: tuple[Store, Store], pg_tenant: Tenant
) -> None:
    """A node's tenant is cached: after another node made the site read-only, an unlock on
    the first still tells viewers that their writes are refused."""
    here, there = nodes
    stale = pg_tenant  # as `here` knows it: writable
    await _new_chat(here, stale, "img")
    assert await there.moderation.update_settings(pg_tenant, readonly=True)
    for read_only in (True, False):
        answer = await _write(
            here,
            stale,
            MOD,
            "lock_image",
            lambda b, r=read_only: writes.lock_image(MOD, b, "img", r),
        )
        assert answer["readOnly"] is read_only  # the answer says the lock
    history = await here.history(stale, "img", None, 0)
    assert history.recovered
    updates = [orjson.loads(e) for e in history.events]
    assert [e["readOnly"] for e in updates if e["type"] == "image-updated"] == [True, True]
