"""Event and model shapes as PROTOCOL.md writes them, and their one encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson

from imagechat.domain import events
from imagechat.domain.models import Chat, Comment, User
from imagechat.domain.times import to_rfc3339, utc_day

T0 = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
ADA = User(id="g:1", name="Ada", avatar_url=None, role="guest")
CHAT = Chat("c1", "img", 12.5, 80.0, 1, False, ADA, T0, T0, 1)
COMMENT = Comment("m1", "c1", "<b>text</b>", ADA, T0, None)


def test_times_are_rfc3339_utc_with_milliseconds() -> None:
    assert to_rfc3339(T0) == "2026-11-26T10:00:00.123Z"
    paris = timezone(timedelta(hours=1))
    assert to_rfc3339(datetime(2026, 11, 26, 11, 0, tzinfo=paris)) == "2026-11-26T10:00:00.000Z"
    assert to_rfc3339(datetime(2026, 1, 2, 3, 4, 5, 999)) == "2026-01-02T03:04:05.000Z"
    late = datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert utc_day(late).isoformat() == "2026-01-02"
    assert to_rfc3339(datetime(987, 6, 5, 4, 3, 2, tzinfo=UTC)) == "0987-06-05T04:03:02.000Z"


def test_user_and_chat_shapes() -> None:
    assert ADA.to_json() == {"id": "g:1", "name": "Ada", "avatarUrl": None, "role": "guest"}
    assert CHAT.to_json() == {
        "id": "c1",
        "urlId": "img",
        "x": 12.5,
        "y": 80.0,
        "commentCount": 1,
        "resolved": False,
        "author": ADA.to_json(),
        "createdAt": "2026-11-26T10:00:00.123Z",
        "updatedAt": "2026-11-26T10:00:00.123Z",
        "version": 1,
    }


def test_comment_shape() -> None:
    assert COMMENT.to_json() == {
        "id": "m1",
        "chatId": "c1",
        "body": "<b>text</b>",
        "author": ADA.to_json(),
        "createdAt": "2026-11-26T10:00:00.123Z",
        "editedAt": None,
    }
    edited = Comment("m1", "c1", "x", ADA, T0, T0 + timedelta(seconds=1))
    assert edited.to_json()["editedAt"] == "2026-11-26T10:00:01.123Z"


def at(offset: int) -> events.Position:
    return events.Position("t", "img", "00000001.abcdef012345", offset)


def test_new_chat_event() -> None:
    event = events.new_chat(at(7), "b-1", CHAT, COMMENT)
    assert event == {
        "type": "new-image-chat",
        "tenantId": "t",
        "urlId": "img",
        "epoch": "00000001.abcdef012345",
        "offset": 7,
        "broadcastId": "b-1",
        "chat": CHAT.to_json(),
        "comment": COMMENT.to_json(),
    }


def test_updated_event_with_and_without_comment() -> None:
    moved = events.chat_updated(at(8), "b-2", "moved", CHAT)
    assert moved["type"] == "image-chat-updated"
    assert moved["change"] == "moved"
    assert "comment" not in moved
    added = events.chat_updated(at(9), "b-3", "comment-added", CHAT, COMMENT)
    assert added["comment"] == COMMENT.to_json()
    assert added["offset"] == 9


def test_deleted_event() -> None:
    assert events.chat_deleted(at(10), "b-4", "c1") == {
        "type": "deleted-image-chat",
        "tenantId": "t",
        "urlId": "img",
        "epoch": "00000001.abcdef012345",
        "offset": 10,
        "broadcastId": "b-4",
        "chatId": "c1",
    }


def test_comment_deleted_event_names_the_comment_without_its_words() -> None:
    event = events.comment_deleted(at(11), "b-5", CHAT, "m1")
    assert event["change"] == "comment-deleted"
    assert event["commentId"] == "m1"
    assert "comment" not in event
    assert b"<b>text</b>" not in events.encode(event)


def test_encoding_is_compact_json_and_small() -> None:
    comment = Comment("m1", "c1", "x" * 140, ADA, T0, None)
    data = events.encode(
        events.new_chat(
            events.Position("tenant", "https://a.example/p|/i.png", "00000001.abcdef012345", 1),
            "0" * 36,
            CHAT,
            comment,
        )
    )
    assert isinstance(data, bytes)
    assert orjson.loads(data)["comment"]["body"] == "x" * 140
    assert b": " not in data and b", " not in data
    # PROTOCOL.md: a typical new-image-chat event with a 140-character comment is under 1 KB.
    assert len(data) < 1024
