"""What protocol v1.1 changed in storage, on SQLite and PostgreSQL: a chat ends with its last
comment, one word for a PATCH that changes several things, and deleted words that never
leave the server again."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from restkit import Api, assert_error, new_bid

from imagechat.domain import limits
from imagechat.storage.tables import channels, events, idempotency_keys


async def test_deleting_the_last_comment_deletes_the_chat(api: Api) -> None:
    token = await api.guest("Ada")
    made = await api.create_chat(token)
    chat_id, comment_id = made["chat"]["id"], made["comment"]["id"]
    bid = new_bid()
    answer = await api.delete(f"/comments/{comment_id}", params={"broadcastId": bid}, token=token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"chatId": chat_id, "offset": 2}
    assert (await api.chats())["chats"] == []
    assert_error(await api.get(f"/chats/{chat_id}"), 404, "chat_not_found")
    event = (await api.events(since=0))["events"][1]
    assert event == {
        "type": "deleted-image-chat",
        "tenantId": api.tenant.id,
        "urlId": "image-1",
        "epoch": api.tenant.epoch,
        "offset": 2,
        "broadcastId": bid,
        "chatId": chat_id,
    }
    # A retry answers the same, and the image can hold a new chat again.
    again = await api.delete(f"/comments/{comment_id}", params={"broadcastId": bid}, token=token)
    assert again.json() == {"chatId": chat_id, "offset": 2}


async def test_a_reply_keeps_the_chat_when_the_first_comment_goes(api: Api) -> None:
    ada, bob = await api.guest("Ada"), await api.guest("Bob")
    made = await api.create_chat(ada)
    await api.add_comment(bob, made["chat"]["id"], "reply")
    answer = await api.delete(
        f"/comments/{made['comment']['id']}", params={"broadcastId": new_bid()}, token=ada
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["chat"]["commentCount"] == 1
    event = (await api.events(since=0))["events"][2]
    assert event["change"] == "comment-deleted"
    assert event["commentId"] == made["comment"]["id"]
    assert "comment" not in event


@pytest.mark.parametrize(
    ("patch", "change"),
    [
        ({"x": 50}, "moved"),
        ({"x": 10, "y": 20}, "moved"),  # to where it already was: still a move
        ({"resolved": True}, "resolved"),
        ({"x": 50, "resolved": True}, "updated"),
        ({"y": 70, "resolved": False}, "moved"),  # it was open: only the move changed
        ({"x": 10, "resolved": True}, "resolved"),  # same place: only the resolve changed
    ],
)
async def test_a_patch_names_what_it_changed(api: Api, patch: dict[str, Any], change: str) -> None:
    token = await api.guest("Ada")
    made = await api.create_chat(token, x=10, y=20)
    answer = await api.patch(
        f"/chats/{made['chat']['id']}", json={**patch, "broadcastId": new_bid()}, token=token
    )
    assert answer.status_code == 200, answer.text
    event = (await api.events(since=0))["events"][1]
    assert event["change"] == change
    assert event["chat"] == answer.json()["chat"]


def _tenant_events(api: Api, *columns: Any) -> Any:
    return (
        sa.select(*columns)
        .select_from(events.join(channels, channels.c.id == events.c.channel_id))
        .where(channels.c.tenant_id == api.tenant.id)
    )


async def _everything_stored(api: Api) -> bytes:
    async with api.store.engine.connect() as conn:
        payloads = (await conn.execute(_tenant_events(api, events.c.payload))).scalars().all()
        answers = (
            (
                await conn.execute(
                    sa.select(idempotency_keys.c.response).where(
                        idempotency_keys.c.tenant_id == api.tenant.id
                    )
                )
            )
            .scalars()
            .all()
        )
    return b"\n".join(bytes(p) for p in [*payloads, *answers])


async def test_deleted_words_never_leave_the_server_again(api: Api) -> None:
    token = await api.guest("Ada")
    made = await api.create_chat(token, comment="first words, kept")
    chat_id = made["chat"]["id"]
    reply_bid = new_bid()
    reply = await api.post(
        f"/chats/{chat_id}/comments",
        json={"comment": "my phone is 555-0199", "broadcastId": reply_bid},
        token=token,
    )
    reply_id = reply.json()["comment"]["id"]
    edited = await api.patch(
        f"/comments/{reply_id}",
        json={"comment": "call me at 555-0142", "broadcastId": new_bid()},
        token=token,
    )
    assert edited.status_code == 200
    stored = await _everything_stored(api)
    assert b"555-0199" not in stored  # the edit replaced the older wording in the log too
    assert b"555-0142" in stored

    deleted = await api.delete(
        f"/comments/{reply_id}", params={"broadcastId": new_bid()}, token=token
    )
    assert deleted.status_code == 200
    assert b"555-01" not in await _everything_stored(api)
    replay = (await api.get("/events", params={"urlId": "image-1", "since": 0})).content
    assert b"555-01" not in replay
    assert b"first words, kept" in replay
    # A retry of the reply answers from its record: without the words.
    retried = await api.post(
        f"/chats/{chat_id}/comments",
        json={"comment": "my phone is 555-0199", "broadcastId": reply_bid},
        token=token,
    )
    assert retried.status_code == 201
    assert retried.json()["comment"]["body"] == ""
    assert b"555-01" not in retried.content

    # Deleting the chat blanks every word of its thread.
    gone = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=token)
    assert gone.status_code == 200
    assert b"first words" not in await _everything_stored(api)
    for event in (await api.events(since=0))["events"]:
        if "comment" in event:
            assert event["comment"]["body"] == ""


async def test_an_image_holds_a_bounded_number_of_chats(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_CHATS_PER_IMAGE", 3)
    token = await api.guest("Ada")
    made = [await api.create_chat(token) for _ in range(3)]
    refused = await api.post(
        "/chats",
        json={"urlId": "image-1", "x": 1, "y": 1, "comment": "4th", "broadcastId": new_bid()},
        token=token,
    )
    assert_error(refused, 422, "too_many_chats")
    assert (await api.chats())["offset"] == 3  # the refusal wrote nothing, took no offset
    await api.create_chat(token, url_id="another-image")  # the bound is per image
    await api.delete(
        f"/chats/{made[0]['chat']['id']}", params={"broadcastId": new_bid()}, token=token
    )
    await api.create_chat(token)  # room again
    assert len((await api.chats())["chats"]) == 3


async def test_a_conversation_holds_a_bounded_number_of_comments(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_COMMENTS_PER_CHAT", 2)
    token = await api.guest("Ada")
    made = await api.create_chat(token)
    await api.add_comment(token, made["chat"]["id"])
    refused = await api.post(
        f"/chats/{made['chat']['id']}/comments",
        json={"comment": "third", "broadcastId": new_bid()},
        token=token,
    )
    assert_error(refused, 422, "too_many_comments")
    assert (await api.chats())["chats"][0]["commentCount"] == 2


async def test_a_guest_session_writes_nothing_until_the_guest_writes(api: Api) -> None:
    from imagechat.storage.tables import users

    async def user_rows() -> int:
        async with api.store.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(users)
                        .where(users.c.tenant_id == api.tenant.id)
                    )
                ).scalar()
            )

    token = await api.guest("Reader")
    assert await user_rows() == 0
    made = await api.create_chat(token)
    assert await user_rows() == 1
    assert made["chat"]["author"]["name"] == "Reader"
    assert (await api.chats())["chats"][0]["author"]["name"] == "Reader"


async def test_stored_events_name_their_chat_and_comment(api: Api) -> None:
    token = await api.guest("Ada")
    made = await api.create_chat(token)
    async with api.store.engine.connect() as conn:
        row = (await conn.execute(_tenant_events(api, events.c.chat_id, events.c.comment_id))).one()
    assert (row.chat_id, row.comment_id) == (made["chat"]["id"], made["comment"]["id"])
    await api.patch(
        f"/chats/{made['chat']['id']}", json={"x": 5, "broadcastId": new_bid()}, token=token
    )
    async with api.store.engine.connect() as conn:
        rows = (
            await conn.execute(_tenant_events(api, events.c.chat_id, events.c.comment_id))
        ).all()
    # A move carries no words: it names its chat only.
    assert [(r.chat_id, r.comment_id) for r in rows][1] == (made["chat"]["id"], None)
