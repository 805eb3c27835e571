"""Chats and comments over REST: threads, moves, resolution, and who may do which."""

from __future__ import annotations

from typing import Any

import pytest
from restkit import Api, assert_error, new_bid


@pytest.fixture()
async def alice(api: Api) -> str:
    return await api.guest("Alice")


@pytest.fixture()
async def bob(api: Api) -> str:
    return await api.guest("Bob")


@pytest.fixture()
async def chat(api: Api, alice: str) -> dict[str, Any]:
    return await api.create_chat(alice, comment="first")


async def thread(api: Api, chat_id: str) -> dict[str, Any]:
    answer = await api.get(f"/chats/{chat_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def offset(api: Api) -> int:
    return int((await api.chats())["offset"])


# --------------------------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------------------------


async def test_reply_edit_and_delete_a_comment(
    api: Api, alice: str, bob: str, chat: dict[str, Any]
) -> None:
    chat_id = chat["chat"]["id"]
    reply = await api.add_comment(bob, chat_id, "  a reply  ")
    assert reply["offset"] == 2
    assert reply["comment"]["body"] == "  a reply  "  # stored as given
    assert reply["comment"]["chatId"] == chat_id
    assert reply["chat"]["commentCount"] == 2
    assert reply["chat"]["version"] == 2
    comment_id = reply["comment"]["id"]

    edited = await api.patch(
        f"/comments/{comment_id}", json={"comment": "better", "broadcastId": new_bid()}, token=bob
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["offset"] == 3
    assert edited.json()["comment"]["body"] == "better"
    assert edited.json()["comment"]["editedAt"] is not None
    assert edited.json()["chat"]["commentCount"] == 2

    shown = await thread(api, chat_id)
    assert [c["body"] for c in shown["comments"]] == ["first", "better"]
    assert shown["comments"][1]["author"]["name"] == "Bob"
    assert shown["chat"]["version"] == 3

    removed = await api.delete(
        f"/comments/{comment_id}", params={"broadcastId": new_bid()}, token=bob
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["offset"] == 4
    assert removed.json()["chat"]["commentCount"] == 1
    assert [c["body"] for c in (await thread(api, chat_id))["comments"]] == ["first"]

    changes = [
        (e["type"], e.get("change"), e["offset"]) for e in (await api.events(since=0))["events"]
    ]
    assert changes == [
        ("new-image-chat", None, 1),
        ("image-chat-updated", "comment-added", 2),
        ("image-chat-updated", "comment-edited", 3),
        ("image-chat-updated", "comment-deleted", 4),
    ]


async def test_only_the_author_edits_a_comment(
    api: Api, alice: str, bob: str, chat: dict[str, Any]
) -> None:
    comment_id = chat["comment"]["id"]
    body = {"comment": "words in her mouth", "broadcastId": new_bid()}
    assert_error(
        await api.patch(f"/comments/{comment_id}", json=body, token=bob), 403, "not_comment_author"
    )
    # Not even a moderator or the API key: nobody puts words in another's mouth.
    moderator = await api.sso("mod", isModerator=True)
    body["broadcastId"] = new_bid()
    assert_error(
        await api.patch(f"/comments/{comment_id}", json=body, token=moderator),
        403,
        "not_comment_author",
    )
    body["broadcastId"] = new_bid()
    assert_error(
        await api.patch(f"/comments/{comment_id}", json=body, api_key=api.tenant.api_secret),
        403,
        "not_comment_author",
    )
    assert (await thread(api, chat["chat"]["id"]))["comments"][0]["body"] == "first"
    assert await offset(api) == 1


async def test_comment_deletion_by_author_or_staff_only(
    api: Api, alice: str, bob: str, chat: dict[str, Any]
) -> None:
    chat_id = chat["chat"]["id"]
    mine = (await api.add_comment(alice, chat_id, "alice again"))["comment"]["id"]
    theirs = (await api.add_comment(bob, chat_id, "bob here"))["comment"]["id"]

    refused = await api.delete(f"/comments/{mine}", params={"broadcastId": new_bid()}, token=bob)
    assert_error(refused, 403, "not_comment_author")

    moderator = await api.sso("mod", isModerator=True)
    by_mod = await api.delete(
        f"/comments/{mine}", params={"broadcastId": new_bid()}, token=moderator
    )
    assert by_mod.status_code == 200, by_mod.text
    by_key = await api.delete(
        f"/comments/{theirs}", params={"broadcastId": new_bid()}, api_key=api.tenant.api_secret
    )
    assert by_key.status_code == 200, by_key.text
    assert by_key.json()["chat"]["commentCount"] == 1
    assert [c["body"] for c in (await thread(api, chat_id))["comments"]] == ["first"]
    assert await offset(api) == 5

    gone = await api.delete(f"/comments/{mine}", params={"broadcastId": new_bid()}, token=alice)
    assert_error(gone, 404, "comment_not_found")


# --------------------------------------------------------------------------------------------
# PATCH /chats: move, resolve, reopen
# --------------------------------------------------------------------------------------------


async def test_move_resolve_and_reopen(api: Api, alice: str, chat: dict[str, Any]) -> None:
    chat_id = chat["chat"]["id"]

    async def patch(**change: Any) -> dict[str, Any]:
        answer = await api.patch(
            f"/chats/{chat_id}", json={"broadcastId": new_bid(), **change}, token=alice
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    moved = await patch(x=0, y=100)
    assert moved["offset"] == 2
    assert (moved["chat"]["x"], moved["chat"]["y"]) == (0.0, 100.0)
    only_x = await patch(x=33.3)
    assert (only_x["chat"]["x"], only_x["chat"]["y"]) == (33.3, 100.0)
    resolved = await patch(resolved=True)
    assert resolved["chat"]["resolved"] is True
    reopened = await patch(resolved=False)
    assert reopened["chat"]["resolved"] is False
    assert reopened["offset"] == 5
    assert reopened["chat"]["version"] == 5
    assert reopened["chat"]["updatedAt"] >= chat["chat"]["updatedAt"]

    events = (await api.events(since=1, epoch=api.tenant.epoch))["events"]
    assert [e["change"] for e in events] == ["moved", "moved", "resolved", "reopened"]
    assert events[-1]["chat"] == reopened["chat"]
    snapshot = (await api.chats())["chats"]
    assert snapshot == [reopened["chat"]]


async def test_only_author_or_staff_manage_a_chat(
    api: Api, alice: str, bob: str, chat: dict[str, Any]
) -> None:
    chat_id = chat["chat"]["id"]
    for change in ({"x": 1}, {"resolved": True}):
        answer = await api.patch(
            f"/chats/{chat_id}", json={"broadcastId": new_bid(), **change}, token=bob
        )
        assert_error(answer, 403, "not_chat_author")
    refused = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=bob)
    assert_error(refused, 403, "not_chat_author")
    # A plain SSO user is no moderator either.
    user = await api.sso("u-7", "Plain User")
    refused = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=user)
    assert_error(refused, 403, "not_chat_author")
    assert await offset(api) == 1
    assert (await thread(api, chat_id))["chat"] == chat["chat"]


@pytest.mark.parametrize("flags", [{"isModerator": True}, {"isAdmin": True}])
async def test_sso_staff_moderate_other_peoples_chats(
    api: Api, alice: str, chat: dict[str, Any], flags: dict[str, bool]
) -> None:
    chat_id = chat["chat"]["id"]
    session = await api.sso_session({"id": 42, "username": "Staff", **flags})
    assert session.status_code == 200, session.text
    staff = session.json()
    assert staff["user"]["id"] == "sso:42"
    assert staff["user"]["role"] == ("admin" if "isAdmin" in flags else "moderator")
    token = staff["token"]

    moved = await api.patch(
        f"/chats/{chat_id}", json={"broadcastId": new_bid(), "y": 1}, token=token
    )
    assert moved.status_code == 200, moved.text
    deleted = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=token)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"offset": 3}
    assert (await api.chats())["chats"] == []


async def test_api_key_acts_as_admin(api: Api, alice: str, chat: dict[str, Any]) -> None:
    key = api.tenant.api_secret
    made = await api.create_chat(None, api_key=key, comment="from the site's backend")
    assert made["chat"]["author"]["role"] == "admin"
    resolved = await api.patch(
        f"/chats/{chat['chat']['id']}",
        json={"broadcastId": new_bid(), "resolved": True},
        api_key=key,
    )
    assert resolved.status_code == 200, resolved.text
    deleted = await api.delete(
        f"/chats/{chat['chat']['id']}", params={"broadcastId": new_bid()}, api_key=key
    )
    assert deleted.status_code == 200, deleted.text
    assert [c["id"] for c in (await api.chats())["chats"]] == [made["chat"]["id"]]


async def test_deleting_a_chat_twice_is_404_and_keeps_the_offset(
    api: Api, alice: str, chat: dict[str, Any]
) -> None:
    chat_id = chat["chat"]["id"]
    first = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=alice)
    assert first.json() == {"offset": 2}
    again = await api.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, token=alice)
    assert_error(again, 404, "chat_not_found")
    reply = await api.post(
        f"/chats/{chat_id}/comments",
        json={"comment": "late", "broadcastId": new_bid()},
        token=alice,
    )
    assert_error(reply, 404, "chat_not_found")
    assert_error(
        await api.patch(
            f"/comments/{chat['comment']['id']}",
            json={"comment": "x", "broadcastId": new_bid()},
            token=alice,
        ),
        404,
        "comment_not_found",
    )
    assert await offset(api) == 2


async def test_channels_are_separate_per_image(api: Api, alice: str) -> None:
    a1 = await api.create_chat(alice, url_id="a")
    b1 = await api.create_chat(alice, url_id="b")
    a2 = await api.create_chat(alice, url_id="a")
    assert (a1["offset"], b1["offset"], a2["offset"]) == (1, 1, 2)
    # A reply goes to the chat's own channel, whatever image the caller thinks of.
    reply = await api.add_comment(alice, b1["chat"]["id"])
    assert reply["offset"] == 2
    assert (await api.chats("a"))["offset"] == 2
    assert (await api.chats("b"))["offset"] == 2
    assert (await api.chats("never-written"))["offset"] == 0
    assert (await api.chats("never-written"))["chats"] == []


async def test_sso_user_details_appear_on_their_chats(api: Api) -> None:
    session = await api.sso_session(
        {"id": "u-1", "username": "  Grace   Hopper ", "avatar": "https://a.example/g.png"}
    )
    assert session.status_code == 200, session.text
    user = session.json()["user"]
    assert user == {
        "id": "sso:u-1",
        "name": "Grace Hopper",
        "avatarUrl": "https://a.example/g.png",
        "role": "user",
    }
    made = await api.create_chat(session.json()["token"])
    assert made["chat"]["author"] == user
    assert made["comment"]["author"] == user
