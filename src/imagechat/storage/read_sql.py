"""The SQL of what clients read, written once for SQLite and PostgreSQL (sql_dialects.py)."""

from __future__ import annotations

import functools

from imagechat.storage.rows import (
    CHAT_COLUMNS,
    CHATS_WITH_AUTHORS,
    COMMENT_COLUMNS,
    COMMENTS_WITH_AUTHORS,
)

HEAD = (
    "SELECT id, epoch, top_offset, history_floor, locked FROM channels"
    " WHERE tenant_id = ? AND url_id = ?"
)
IMAGE_CHATS = (
    f"SELECT {CHAT_COLUMNS} FROM {CHATS_WITH_AUTHORS}"
    " WHERE c.tenant_id = ? AND c.url_id = ? ORDER BY c.created_at, c.id"
)
# Images whose widgets a site-wide read-only change reaches (a locked one stays read-only).
UNLOCKED_IMAGES = "SELECT url_id FROM channels WHERE tenant_id = ? AND locked = FALSE ORDER BY id"
CHAT = f"SELECT {CHAT_COLUMNS} FROM {CHATS_WITH_AUTHORS} WHERE c.tenant_id = ? AND c.id = ?"
# A hidden comment is for moderators' eyes only (admin_sql.py reads it).
THREAD = (
    f"SELECT {COMMENT_COLUMNS} FROM {COMMENTS_WITH_AUTHORS}"
    " WHERE m.chat_id = ? AND m.hidden = FALSE ORDER BY m.created_at, m.id"
)
EVENTS = (
    'SELECT payload FROM events WHERE channel_id = ? AND "offset" > ? AND "offset" <= ?'
    ' ORDER BY "offset"'
)


@functools.cache
def heads(count: int) -> str:
    """The heads of `count` channels, named by (tenant_id, url_id) pairs."""
    pairs = ", ".join(["(?, ?)"] * count)
    return (
        "SELECT tenant_id, url_id, epoch, top_offset FROM channels"
        f" WHERE (tenant_id, url_id) IN (VALUES {pairs})"
    )
