"""Who may do what, as small predicates over the actor and the thing acted on."""

from __future__ import annotations

from imagechat.domain.errors import Forbidden
from imagechat.domain.models import Chat, Comment, Tenant, User


def may_write(tenant: Tenant, actor: User) -> None:
    """Anyone with a session may create chats and comments unless the tenant is read-only."""
    if tenant.readonly and not actor.is_staff:
        raise Forbidden("this site is read-only", "readonly")


def may_manage_chat(actor: User, chat: Chat) -> None:
    """Moving, resolving and deleting a chat: its author, moderators and admins."""
    if actor.id != chat.author.id and not actor.is_staff:
        raise Forbidden("only the chat's author or a moderator may do this", "not_chat_author")


def may_edit_comment(actor: User, comment: Comment) -> None:
    """Editing a comment: its author alone, so nobody puts words in another's mouth."""
    if actor.id != comment.author.id:
        raise Forbidden("only the comment's author may do this", "not_comment_author")


def may_delete_comment(actor: User, comment: Comment) -> None:
    """Deleting a comment: its author, and moderators and admins as moderation."""
    if actor.id != comment.author.id and not actor.is_staff:
        raise Forbidden(
            "only the comment's author or a moderator may do this", "not_comment_author"
        )


def may_read_usage(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden("usage is for admins only", "admin_only")


def may_use_origin(tenant: Tenant, origin: str | None) -> None:
    """A browser's Origin must be on the tenant's list, if it keeps one; servers send none."""
    if origin is None or not tenant.origins:
        return
    if origin.rstrip("/").lower() not in tenant.origins:
        raise Forbidden(f"origin {origin!r} is not allowed for this site", "origin_not_allowed")
