"""Moderation rules: who may moderate or administer a site, what a flag and a ban look like,
and the live events moderation causes (clients ignore the ones they do not know)."""

from __future__ import annotations

from typing import Any

from imagechat.domain import validation
from imagechat.domain.errors import Forbidden, Invalid
from imagechat.domain.events import Position
from imagechat.domain.models import Chat, Comment, User

MAX_FLAG_REASON = 500
MAX_BAN_REASON = 500
MAX_AUTO_HIDE_FLAGS = 1000


def may_moderate(actor: User) -> None:
    """Hiding, restoring, locking, banning and reading the queue: moderators and admins."""
    if not actor.is_staff:
        raise Forbidden("this needs a moderator or an admin", "moderator_only")


def may_administer(actor: User) -> None:
    """A site's settings and its secret: admins (and the API secret) only."""
    if actor.role != "admin":
        raise Forbidden("this needs an admin", "admin_only")


def not_banned(banned: bool) -> None:
    if banned:
        raise Forbidden("you may not write on this site", "banned")


def may_write_image(actor: User, locked: bool) -> None:
    """A locked image takes writes from moderators and admins alone."""
    if locked and not actor.is_staff:
        raise Forbidden("this image is read-only", "read_only")


def may_edit_hidden(actor: User, hidden: bool) -> None:
    """An edit would show a hidden comment's new words to everyone."""
    if hidden and not actor.is_staff:
        raise Forbidden("a hidden comment cannot be edited", "comment_hidden")


def flag_reason(value: str) -> str:
    reason = value.strip()
    if not 1 <= len(reason) <= MAX_FLAG_REASON or not validation.storable(reason):
        raise Invalid(f"reason must be 1..{MAX_FLAG_REASON} characters", "invalid_reason")
    return reason


def ban_reason(value: str) -> str:
    reason = value.strip()
    if len(reason) > MAX_BAN_REASON or not validation.storable(reason):
        raise Invalid(f"reason must be at most {MAX_BAN_REASON} characters", "invalid_reason")
    return reason


def user_id(value: str) -> str:
    if not 1 <= len(value) <= 200 or not validation.storable(value):
        raise Invalid("userId must be 1..200 characters", "invalid_user_id")
    return value


def auto_hide_flags(value: int) -> int:
    if isinstance(value, bool) or not 0 <= value <= MAX_AUTO_HIDE_FLAGS:
        raise Invalid(
            f"autoHideFlags must be 0 (off) .. {MAX_AUTO_HIDE_FLAGS}", "invalid_auto_hide"
        )
    return value


# --- events -----------------------------------------------------------------------------------


def comment_hidden(at: Position, broadcast_id: str, chat: Chat, comment_id: str) -> dict[str, Any]:
    """A comment went out of sight: like a deletion, the event names it, never its words."""
    return {
        **at.head("image-chat-updated", broadcast_id),
        "change": "comment-hidden",
        "chat": chat.to_json(),
        "commentId": comment_id,
    }


def comment_restored(
    at: Position, broadcast_id: str, chat: Chat, comment: Comment
) -> dict[str, Any]:
    return {
        **at.head("image-chat-updated", broadcast_id),
        "change": "comment-restored",
        "chat": chat.to_json(),
        "comment": comment.to_json(),
    }


def image_updated(at: Position, broadcast_id: str, read_only: bool) -> dict[str, Any]:
    """An image was locked (`readOnly: true`) or unlocked by a moderator."""
    return {**at.head("image-updated", broadcast_id), "readOnly": read_only}
