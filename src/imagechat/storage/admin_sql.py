"""The SQL of what the operator console and the admin API read (admin_reads.py), written
once for SQLite and PostgreSQL like the rest (sql_dialects.py)."""

from __future__ import annotations

import functools

from imagechat.storage.rows import (
    CHAT_COLUMNS,
    CHATS_WITH_AUTHORS,
    COMMENT_COLUMNS,
    COMMENTS_WITH_AUTHORS,
)

# Search text is matched as text: its own %, _ and \ are escaped for LIKE with this escape.
LIKE = " LIKE ? ESCAPE '\\'"

_MODERATED = f"{COMMENT_COLUMNS}, m.hidden, m.flag_count"

CHAT = f"SELECT {CHAT_COLUMNS} FROM {CHATS_WITH_AUTHORS} WHERE c.tenant_id = ? AND c.id = ?"
THREAD = (
    f"SELECT {_MODERATED} FROM {COMMENTS_WITH_AUTHORS} WHERE m.chat_id = ?"
    " ORDER BY m.created_at, m.id"
)
IMAGE_LOCKED = "SELECT locked FROM channels WHERE tenant_id = ? AND url_id = ?"
FLAGGED = (
    f"SELECT {_MODERATED}, c.url_id AS image FROM {COMMENTS_WITH_AUTHORS}"
    " JOIN chats c ON c.id = m.chat_id WHERE m.tenant_id = ? AND m.flag_count > 0"
    " ORDER BY m.flag_count DESC, m.created_at DESC LIMIT ?"
)

_TEXT = f" AND EXISTS (SELECT 1 FROM comments t WHERE t.chat_id = c.id AND lower(t.body){LIKE})"
_AUTHOR = (
    " AND EXISTS (SELECT 1 FROM comments t JOIN users a"
    " ON a.tenant_id = t.tenant_id AND a.id = t.author_id WHERE t.chat_id = c.id"
    f" AND (lower(a.name){LIKE} OR lower(a.id){LIKE}))"
)
_IMAGE = f" AND lower(c.url_id){LIKE}"
_STATUS = {
    "all": "",
    "open": " AND c.resolved = FALSE",
    "resolved": " AND c.resolved = TRUE",
    "flagged": " AND EXISTS (SELECT 1 FROM comments t WHERE t.chat_id = c.id AND t.flag_count > 0)",
    "hidden": " AND EXISTS (SELECT 1 FROM comments t WHERE t.chat_id = c.id AND t.hidden = TRUE)",
}


@functools.cache
def conversations(text: bool, author: bool, image: bool, status: str) -> str:
    """A page of a site's chats, newest first, narrowed by what the search names: a handful
    of distinct statements, each prepared once."""
    where = "c.tenant_id = ?"
    where += _TEXT if text else ""
    where += _AUTHOR if author else ""
    where += _IMAGE if image else ""
    where += _STATUS[status]
    return (
        f"SELECT {CHAT_COLUMNS}, COALESCE(h.locked, FALSE) AS image_locked"
        f" FROM {CHATS_WITH_AUTHORS}"
        " LEFT JOIN channels h ON h.tenant_id = c.tenant_id AND h.url_id = c.url_id"
        f" WHERE {where} ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
    )


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


@functools.cache
def counts(chats: int) -> str:
    """Flags waiting and comments hidden, per chat of a page."""
    return (
        "SELECT chat_id, SUM(flag_count) AS flags,"
        " SUM(CASE WHEN hidden THEN 1 ELSE 0 END) AS hidden_count"
        f" FROM comments WHERE chat_id IN ({_marks(chats)}) GROUP BY chat_id"
    )


@functools.cache
def first_comments(chats: int) -> str:
    return (
        f"SELECT {_MODERATED} FROM {COMMENTS_WITH_AUTHORS}"
        f" WHERE m.chat_id IN ({_marks(chats)}) AND m.created_at ="
        " (SELECT min(e.created_at) FROM comments e WHERE e.chat_id = m.chat_id)"
        " ORDER BY m.created_at, m.id"
    )


@functools.cache
def reasons(comments: int) -> str:
    return (
        "SELECT comment_id, user_id, reason, created_at FROM flags"
        f" WHERE tenant_id = ? AND comment_id IN ({_marks(comments)}) ORDER BY created_at"
    )
