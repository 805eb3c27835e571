"""A write is applied once per (tenant, broadcastId): retries get the first answer back."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from restkit import Api, assert_error, new_bid

from imagechat.storage.tables import channels, chats, comments, events


async def counts(api: Api) -> tuple[int, int, int]:
    """(chats, comments, events) the tenant has in the database."""
    async with api.store.engine.connect() as conn:
        n_chats = await conn.scalar(
            sa.select(sa.func.count()).select_from(chats).where(chats.c.tenant_id == api.tenant.id)
        )
        n_comments = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(comments)
            .where(comments.c.tenant_id == api.tenant.id)
        )
        n_events = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(events.join(channels, channels.c.id == events.c.channel_id))
            .where(channels.c.tenant_id == api.tenant.id)
        )
    return int(n_chats or 0), int(n_comments or 0), int(n_events or 0)


async def test_every_write_is_idempotent(api: Api) -> None:
    token = await api.guest()
    create = {"urlId": "img", "x": 1, "y": 2, "comment": "c", "broadcastId": new_bid()}

    async def twice(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        first = await api.request(method, path, token=token, **kwargs)
        assert first.status_code in (200, 201), first.text
        before = await counts(api)
        again = await api.request(method, path, token=token, **kwargs)
        assert again.status_code == first.status_code
        assert again.content == first.content  # the stored answer, byte for byte
        assert await counts(api) == before
        return dict(first.json())

    made = await twice("POST", "/chats", json=create)
    chat_id = made["chat"]["id"]
    reply = await twice(
        "POST", f"/chats/{chat_id}/comments", json={"comment": "r", "broadcastId": new_bid()}
    )
    comment_id = reply["comment"]["id"]
    await twice("PATCH", f"/chats/{chat_id}", json={"x": 9, "broadcastId": new_bid()})
    await twice("PATCH", f"/comments/{comment_id}", json={"comment": "e", "broadcastId": new_bid()})
    await twice("DELETE", f"/comments/{comment_id}", params={"broadcastId": new_bid()})
    deleted = await twice("DELETE", f"/chats/{chat_id}", params={"broadcastId": new_bid()})
    # Six writes, six offsets, however many retries.
    assert deleted == {"offset": 6}
    assert (await api.chats("img"))["offset"] == 6
    assert await counts(api) == (0, 0, 6)


async def test_a_retry_with_a_changed_body_still_gets_the_first_answer(api: Api) -> None:
    token = await api.guest()
    bid = new_bid()
    body = {"urlId": "img", "x": 1, "y": 2, "comment": "original", "broadcastId": bid}
    first = await api.post("/chats", json=body, token=token)
    changed = await api.post("/chats", json={**body, "comment": "changed", "x": 50}, token=token)
    assert changed.json() == first.json()
    assert changed.json()["comment"]["body"] == "original"


async def test_broadcast_id_reused_for_another_operation_is_409(api: Api) -> None:
    token = await api.guest()
    bid = new_bid()
    made = await api.create_chat(token, url_id="img", broadcast_id=bid)
    chat_id = made["chat"]["id"]
    other = await api.create_chat(token, url_id="img")

    reused = [
        await api.post(
            f"/chats/{chat_id}/comments", json={"comment": "x", "broadcastId": bid}, token=token
        ),
        await api.patch(
            f"/chats/{chat_id}", json={"resolved": True, "broadcastId": bid}, token=token
        ),
        await api.delete(f"/chats/{chat_id}", params={"broadcastId": bid}, token=token),
        await api.patch(
            f"/comments/{made['comment']['id']}",
            json={"comment": "x", "broadcastId": bid},
            token=token,
        ),
    ]
    for answer in reused:
        assert_error(answer, 409, "broadcast_id_reused")

    # The same operation on another chat is another operation, too.
    reply_bid = new_bid()
    first = await api.post(
        f"/chats/{chat_id}/comments", json={"comment": "x", "broadcastId": reply_bid}, token=token
    )
    assert first.status_code == 201
    elsewhere = await api.post(
        f"/chats/{other['chat']['id']}/comments",
        json={"comment": "x", "broadcastId": reply_bid},
        token=token,
    )
    assert_error(elsewhere, 409, "broadcast_id_reused")
    assert (await api.chats("img"))["offset"] == 3
    assert await counts(api) == (2, 3, 3)


async def test_a_refused_write_does_not_use_up_its_broadcast_id(api: Api) -> None:
    alice = await api.guest("Alice")
    bob = await api.guest("Bob")
    made = await api.create_chat(alice, url_id="img")
    bid = new_bid()
    path = f"/chats/{made['chat']['id']}"
    assert_error(await api.delete(path, params={"broadcastId": bid}, token=bob), 403)
    allowed = await api.delete(path, params={"broadcastId": bid}, token=alice)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"offset": 2}


async def test_concurrent_duplicates_make_one_chat_and_one_event(api: Api) -> None:
    token = await api.guest()
    bid = new_bid()
    body = {"urlId": "img", "x": 1, "y": 2, "comment": "once", "broadcastId": bid}
    answers = await asyncio.gather(*(api.post("/chats", json=body, token=token) for _ in range(12)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["offset"] == 1
    assert await counts(api) == (1, 1, 1)
    history = await api.events("img", since=0)
    assert [(e["offset"], e["broadcastId"]) for e in history["events"]] == [(1, bid)]
    # The channel goes on from there without a gap.
    assert (await api.create_chat(token, url_id="img"))["offset"] == 2


async def test_concurrent_duplicates_of_a_reply(api: Api) -> None:
    token = await api.guest()
    made = await api.create_chat(token, url_id="img")
    body = {"comment": "once", "broadcastId": new_bid()}
    path = f"/chats/{made['chat']['id']}/comments"
    answers = await asyncio.gather(*(api.post(path, json=body, token=token) for _ in range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert await counts(api) == (1, 2, 2)
    assert (await api.chats("img"))["chats"][0]["commentCount"] == 2


async def test_another_user_retrying_a_broadcast_id_gets_409_not_the_answer(api: Api) -> None:
    alice = await api.guest("Alice")
    mallory = await api.guest("Mallory")
    bid = new_bid()
    await api.create_chat(alice, url_id="img", broadcast_id=bid)
    stolen = await api.post(
        "/chats",
        json={"urlId": "img", "x": 1, "y": 1, "comment": "x", "broadcastId": bid},
        token=mallory,
    )
    assert_error(stolen, 409, "broadcast_id_reused")
    assert (await api.chats("img"))["offset"] == 1
