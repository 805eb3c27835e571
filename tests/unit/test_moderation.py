"""Moderation rules: who moderates and administers, bounds of reasons and settings, the
shapes of the events moderation causes (a hidden comment's words never travel)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imagechat.domain import moderation
from imagechat.domain.errors import Forbidden, Invalid
from imagechat.domain.events import Position
from imagechat.domain.models import Chat, Comment, User

MOMENT = datetime(2026, 11, 26, 10, tzinfo=UTC)


def user(role: str) -> User:
    return User(id=f"u-{role}", name=role.title(), avatar_url=None, role=role)  # type: ignore[arg-type]


def chat() -> Chat:
    return Chat("c1", "img", 1.0, 2.0, 2, False, user("user"), MOMENT, MOMENT, 3)


@pytest.mark.parametrize("role", ["guest", "user"])
def test_people_neither_moderate_nor_administer(role: str) -> None:
    with pytest.raises(Forbidden, match="moderator") as raised:
        moderation.may_moderate(user(role))
    assert raised.value.code == "moderator_only"
    with pytest.raises(Forbidden):
        moderation.may_administer(user(role))


def test_moderators_moderate_and_admins_also_administer() -> None:
    moderation.may_moderate(user("moderator"))
    moderation.may_moderate(user("admin"))
    moderation.may_administer(user("admin"))
    with pytest.raises(Forbidden) as raised:
        moderation.may_administer(user("moderator"))
    assert raised.value.code == "admin_only"


def test_locks_bans_and_hidden_comments() -> None:
    moderation.may_write_image(user("guest"), False)
    moderation.may_write_image(user("moderator"), True)
    with pytest.raises(Forbidden) as locked:
        moderation.may_write_image(user("user"), True)
    assert locked.value.code == "read_only"
    moderation.not_banned(False)
    with pytest.raises(Forbidden) as banned:
        moderation.not_banned(True)
    assert banned.value.code == "banned"
    moderation.may_edit_hidden(user("admin"), True)
    with pytest.raises(Forbidden) as hidden:
        moderation.may_edit_hidden(user("user"), True)
    assert hidden.value.code == "comment_hidden"


def test_value_bounds() -> None:
    assert moderation.flag_reason("  spam  ") == "spam"
    for bad in ("", "   ", "x" * 501, "a\x00b"):
        with pytest.raises(Invalid):
            moderation.flag_reason(bad)
    assert moderation.ban_reason("") == ""
    with pytest.raises(Invalid):
        moderation.ban_reason("x" * 501)
    for bad_id in ("", "x" * 201, "a\x00"):
        with pytest.raises(Invalid):
            moderation.user_id(bad_id)
    assert moderation.auto_hide_flags(0) == 0 and moderation.auto_hide_flags(1000) == 1000
    for bad_count in (-1, 1001, True):
        with pytest.raises(Invalid):
            moderation.auto_hide_flags(bad_count)


def test_event_shapes() -> None:
    at = Position("t", "img", "e1", 7)
    hidden = moderation.comment_hidden(at, "b", chat(), "m1")
    assert hidden["type"] == "image-chat-updated" and hidden["change"] == "comment-hidden"
    assert hidden["commentId"] == "m1" and "comment" not in hidden
    assert (hidden["epoch"], hidden["offset"]) == ("e1", 7)
    comment = Comment("m1", "c1", "words", user("user"), MOMENT, None)
    restored = moderation.comment_restored(at, "b", chat(), comment)
    assert restored["change"] == "comment-restored" and restored["comment"]["body"] == "words"
    locked = moderation.image_updated(at, "b", True)
    assert locked == {
        "type": "image-updated",
        "tenantId": "t",
        "urlId": "img",
        "epoch": "e1",
        "offset": 7,
        "broadcastId": "b",
        "readOnly": True,
    }
