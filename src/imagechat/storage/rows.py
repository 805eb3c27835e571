"""Queries that read chats and comments with their authors, and rows turned into models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.models import Chat, Comment, Role, User
from imagechat.storage.tables import chats, comments, users

_chat_author = users.alias("chat_author")
_comment_author = users.alias("comment_author")

_AUTHOR_COLUMNS = ("id", "name", "avatar_url", "role")


def _author_columns(alias: Any, prefix: str) -> list[sa.Label[Any]]:
    return [alias.c[name].label(f"{prefix}_{name}") for name in _AUTHOR_COLUMNS]


def utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; every one we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _user(row: Any, prefix: str) -> User:
    role: Role = getattr(row, f"{prefix}_role")
    return User(
        id=getattr(row, f"{prefix}_id"),
        name=getattr(row, f"{prefix}_name"),
        avatar_url=getattr(row, f"{prefix}_avatar_url"),
        role=role,
    )


CHAT_SELECT = sa.select(chats, *_author_columns(_chat_author, "writer")).select_from(
    chats.join(
        _chat_author,
        sa.and_(
            _chat_author.c.tenant_id == chats.c.tenant_id, _chat_author.c.id == chats.c.author_id
        ),
    )
)

COMMENT_SELECT = sa.select(comments, *_author_columns(_comment_author, "writer")).select_from(
    comments.join(
        _comment_author,
        sa.and_(
            _comment_author.c.tenant_id == comments.c.tenant_id,
            _comment_author.c.id == comments.c.author_id,
        ),
    )
)


def chat_from(row: Any) -> Chat:
    return Chat(
        id=row.id,
        url_id=row.url_id,
        x=row.x,
        y=row.y,
        comment_count=row.comment_count,
        resolved=bool(row.resolved),
        author=_user(row, "writer"),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        version=row.version,
    )


def comment_from(row: Any) -> Comment:
    return Comment(
        id=row.id,
        chat_id=row.chat_id,
        body=row.body,
        author=_user(row, "writer"),
        created_at=utc(row.created_at),
        edited_at=utc(row.edited_at) if row.edited_at is not None else None,
    )


def _storable_id(value: str) -> bool:
    """Ids we make are hex; one with a NUL (which PostgreSQL refuses in text) names nothing."""
    return "\x00" not in value


async def load_chat(
    conn: AsyncConnection, tenant_id: str, chat_id: str, *, lock: bool = False
) -> Chat | None:
    if not _storable_id(chat_id):
        return None
    query = CHAT_SELECT.where(chats.c.tenant_id == tenant_id, chats.c.id == chat_id)
    if lock:
        query = query.with_for_update(of=chats)
    row = (await conn.execute(query)).first()
    return chat_from(row) if row is not None else None


async def load_comment(conn: AsyncConnection, tenant_id: str, comment_id: str) -> Comment | None:
    if not _storable_id(comment_id):
        return None
    query = COMMENT_SELECT.where(comments.c.tenant_id == tenant_id, comments.c.id == comment_id)
    row = (await conn.execute(query)).first()
    return comment_from(row) if row is not None else None
