"""The whole story of one image, end to end over REST, on SQLite and on PostgreSQL."""

from __future__ import annotations

import orjson
from restkit import Api, assert_error, new_bid, sso_payload


async def test_done_when_scenario(api: Api) -> None:
    # A guest session gives a token.
    session = await api.post("/sessions", json={"guest": {"name": "  Ada   Lovelace "}})
    assert session.status_code == 200, session.text
    alice = session.json()
    assert alice["user"]["name"] == "Ada Lovelace"
    assert alice["user"]["role"] == "guest"
    assert alice["user"]["avatarUrl"] is None
    assert alice["expiresAt"].endswith("Z")
    token = alice["token"]

    # A new chat answers 201 with offset 1, a second one offset 2.
    first_bid = new_bid()
    first_body = {
        "urlId": "cat.jpg",
        "x": 12.5,
        "y": 80,
        "comment": "look",
        "broadcastId": first_bid,
    }
    first = await api.post("/chats", json=first_body, token=token)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["offset"] == 1
    chat = created["chat"]
    assert chat["urlId"] == "cat.jpg"
    assert (chat["x"], chat["y"]) == (12.5, 80.0)
    assert chat["commentCount"] == 1
    assert chat["resolved"] is False
    assert chat["version"] == 1
    assert chat["author"]["id"] == alice["user"]["id"]
    assert created["comment"]["body"] == "look"
    assert created["comment"]["chatId"] == chat["id"]
    assert created["comment"]["editedAt"] is None

    second = await api.create_chat(token, url_id="cat.jpg", x=50, y=50, comment="and here")
    assert second["offset"] == 2

    # The first request retried with its broadcastId: the same chat, offset still 2.
    retried = await api.post("/chats", json=first_body, token=token)
    assert retried.status_code == 201
    assert retried.json() == created

    # GET /chats shows two chats at offset 2.
    listing = await api.chats("cat.jpg")
    assert listing["offset"] == 2
    assert listing["urlId"] == "cat.jpg"
    assert listing["epoch"] == api.tenant.epoch
    assert [c["id"] for c in listing["chats"]] == [chat["id"], second["chat"]["id"]]

    # x = 150 is refused in the Error shape.
    bad = await api.post(
        "/chats",
        json={"urlId": "cat.jpg", "x": 150, "y": 5, "comment": "?", "broadcastId": new_bid()},
        token=token,
    )
    assert_error(bad, 422, "invalid_coordinate")

    # A forged SSO hash gets 401.
    forged = sso_payload(api.tenant.api_secret, {"id": "1", "username": "mallory"})
    forged["verificationHash"] = "0" * 64
    assert_error(await api.post("/sessions", json={"sso": forged}), 401, "sso_invalid_hash")

    # Another guest may not delete the chat; its author may, at offset 3.
    bob = await api.guest("Bob")
    delete_bid = new_bid()
    refused = await api.delete(f"/chats/{chat['id']}", params={"broadcastId": new_bid()}, token=bob)
    assert_error(refused, 403, "not_chat_author")
    deleted = await api.delete(
        f"/chats/{chat['id']}", params={"broadcastId": delete_bid}, token=token
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"offset": 3}

    # /events?since=0 returns the three events in order.
    history = await api.events("cat.jpg", since=0)
    assert history["recovered"] is True
    assert history["offset"] == 3
    assert history["epoch"] == api.tenant.epoch
    events = history["events"]
    assert [e["offset"] for e in events] == [1, 2, 3]
    assert [e["type"] for e in events] == ["new-image-chat", "new-image-chat", "deleted-image-chat"]
    assert [e["broadcastId"] for e in events] == [
        first_bid,
        events[1]["broadcastId"],
        delete_bid,
    ]
    assert events[0]["chat"] == chat
    # The chat is deleted, so its words are gone from the log: the event keeps its shape.
    assert events[0]["comment"] == {**created["comment"], "body": ""}
    assert all(e["epoch"] == api.tenant.epoch for e in events)
    assert events[1]["chat"] == second["chat"]
    assert events[2]["chatId"] == chat["id"]
    assert all(e["tenantId"] == api.tenant.id and e["urlId"] == "cat.jpg" for e in events)

    # What is left: one chat, and its thread is gone with it.
    assert [c["id"] for c in (await api.chats("cat.jpg"))["chats"]] == [second["chat"]["id"]]
    assert_error(await api.get(f"/chats/{chat['id']}"), 404, "chat_not_found")


async def test_events_are_stored_exactly_as_served(api: Api) -> None:
    """The log holds the encoded event: /events splices it in, byte for byte the same JSON."""
    token = await api.guest()
    made = await api.create_chat(token, comment="ünïcödé ✓ <b>not html</b>")
    raw = (await api.get("/events", params={"urlId": "image-1", "since": 0})).content
    parsed = orjson.loads(raw)
    assert parsed["events"][0]["comment"]["body"] == "ünïcödé ✓ <b>not html</b>"
    assert parsed["events"][0]["chat"] == made["chat"]
