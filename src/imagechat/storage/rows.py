"""Rows of chats and comments (with their author's columns) turned into models."""

from __future__ import annotations

from imagechat.domain.models import Chat, Comment, Role, User
from imagechat.storage.steps import Row
from imagechat.storage.values import as_utc

# The author's columns, joined as `u`, under the names `author` reads.
AUTHOR_COLUMNS = (
    "u.id AS author_id, u.name AS author_name, u.avatar_url AS author_avatar_url,"
    " u.role AS author_role"
)
CHAT_COLUMNS = (
    "c.id, c.url_id, c.x, c.y, c.comment_count, c.resolved, c.created_at, c.updated_at,"
    f" c.version, {AUTHOR_COLUMNS}"
)
COMMENT_COLUMNS = f"m.id, m.chat_id, m.body, m.created_at, m.edited_at, {AUTHOR_COLUMNS}"
CHATS_WITH_AUTHORS = "chats c JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.author_id"
COMMENTS_WITH_AUTHORS = (
    "comments m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.author_id"
)


def author(row: Row) -> User:
    role: Role = row["author_role"]
    return User(
        id=row["author_id"],
        name=row["author_name"],
        avatar_url=row["author_avatar_url"],
        role=role,
    )


def chat(row: Row) -> Chat:
    return Chat(
        id=row["id"],
        url_id=row["url_id"],
        x=float(row["x"]),
        y=float(row["y"]),
        comment_count=int(row["comment_count"]),
        resolved=bool(row["resolved"]),
        author=author(row),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        version=int(row["version"]),
    )


def comment(row: Row) -> Comment:
    return Comment(
        id=row["id"],
        chat_id=row["chat_id"],
        body=row["body"],
        author=author(row),
        created_at=as_utc(row["created_at"]),
        edited_at=as_utc(row["edited_at"]) if row["edited_at"] is not None else None,
    )
