"""The SQL of the write path, written once for SQLite and PostgreSQL (see sql_dialects.py).

Where the two databases differ, PostgreSQL takes row locks (`LOCK`) that SQLite, with its one
writer at a time, does not need.
"""

from __future__ import annotations

from imagechat.storage.rows import (
    CHAT_COLUMNS,
    CHATS_WITH_AUTHORS,
    COMMENT_COLUMNS,
    COMMENTS_WITH_AUTHORS,
)
from imagechat.storage.sql_dialects import LOCK

STORED_OUTCOME = (
    "SELECT operation, actor_id, status_code, response FROM idempotency_keys"
    " WHERE tenant_id = ? AND broadcast_id = ?"
)

# The first answer to a write and whether its author is banned, in one round trip.
OUTCOME_AND_BAN = (
    "SELECT EXISTS (SELECT 1 FROM bans WHERE tenant_id = ? AND user_id = ?) AS banned,"
    " k.operation, k.actor_id, k.status_code, k.response FROM (SELECT 1 AS one) AS o"
    " LEFT JOIN idempotency_keys k ON k.tenant_id = ? AND k.broadcast_id = ?"
)

UPSERT_USER = (
    "INSERT INTO users (tenant_id, id, name, avatar_url, role, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name,"
    " avatar_url = excluded.avatar_url, role = excluded.role, updated_at = excluded.updated_at"
)

# Taking the next offset: update the head first (its row lock orders the channel's writers);
# insert a head only for a channel's very first event, so no sequence value burns per write.
_HEAD = " RETURNING id, epoch, top_offset, history_floor, chat_count, locked"
BUMP_HEAD = (
    "UPDATE channels SET top_offset = top_offset + 1, chat_count = chat_count + ?"
    " WHERE tenant_id = ? AND url_id = ?" + _HEAD
)
NEW_HEAD = (
    "INSERT INTO channels (tenant_id, url_id, epoch, top_offset, history_floor, chat_count)"
    " VALUES (?, ?, ?, 1, 0, ?) ON CONFLICT (tenant_id, url_id) DO NOTHING" + _HEAD
)
TRIM_EVENTS = 'DELETE FROM events WHERE channel_id = ? AND "offset" <= ?'
RAISE_FLOOR = "UPDATE channels SET history_floor = ? WHERE id = ? AND history_floor < ?"

LOCKED_CHAT = (
    f"SELECT {CHAT_COLUMNS} FROM {CHATS_WITH_AUTHORS} WHERE c.tenant_id = ? AND c.id = ?" + LOCK
)
COMMENT = (
    f"SELECT {COMMENT_COLUMNS} FROM {COMMENTS_WITH_AUTHORS} WHERE m.tenant_id = ? AND m.id = ?"
)
COMMENT_CHAT = "SELECT chat_id FROM comments WHERE tenant_id = ? AND id = ?"

INSERT_CHAT = (
    "INSERT INTO chats (id, tenant_id, url_id, x, y, resolved, comment_count, author_id,"
    " page_url, image_src, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_CHAT = (
    "UPDATE chats SET x = ?, y = ?, resolved = ?, comment_count = ?, updated_at = ?,"
    " version = ? WHERE id = ?"
)
DELETE_CHAT = "DELETE FROM chats WHERE id = ?"
INSERT_COMMENT = (
    "INSERT INTO comments (id, chat_id, tenant_id, author_id, body, created_at, edited_at)"
    " VALUES (?, ?, ?, ?, ?, ?, NULL)"
)
UPDATE_COMMENT = "UPDATE comments SET body = ?, edited_at = ? WHERE id = ?"
DELETE_COMMENT = "DELETE FROM comments WHERE id = ?"
DELETE_CHAT_COMMENTS = "DELETE FROM comments WHERE chat_id = ?"

INSERT_EVENT = (
    'INSERT INTO events (channel_id, "offset", epoch, type, broadcast_id, chat_id,'
    " comment_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_OUTCOME = (
    "INSERT INTO idempotency_keys (tenant_id, broadcast_id, operation, actor_id, status_code,"
    " response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# Per image and day, so that writers on different images of one tenant never queue on one
# row; a tenant's day is the sum of its images' rows (storage/usage.py).
ADD_CHANNEL_USAGE = (
    "INSERT INTO channel_usage_daily (channel_id, day, tenant_id, conversations_created,"
    " comments_created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, day) DO UPDATE SET"
    " conversations_created = channel_usage_daily.conversations_created"
    " + excluded.conversations_created,"
    " comments_created = channel_usage_daily.comments_created + excluded.comments_created"
)

# Events that carry a comment's words (its creation, its edits), to rewrite them.
COMMENT_TEXT_EVENTS = (
    'SELECT "offset", broadcast_id, comment_id, payload FROM events'
    " WHERE channel_id = ? AND chat_id = ? AND comment_id = ?"
)
CHAT_TEXT_EVENTS = (
    'SELECT "offset", broadcast_id, comment_id, payload FROM events'
    " WHERE channel_id = ? AND chat_id = ? AND comment_id IS NOT NULL"
)
REWRITE_EVENT = 'UPDATE events SET payload = ? WHERE channel_id = ? AND "offset" = ?'
OUTCOME_RESPONSE = "SELECT response FROM idempotency_keys WHERE tenant_id = ? AND broadcast_id = ?"
REWRITE_OUTCOME = (
    "UPDATE idempotency_keys SET response = ? WHERE tenant_id = ? AND broadcast_id = ?"
)

# --- moderation ---------------------------------------------------------------------------

COMMENT_STATE = "SELECT hidden, flag_count FROM comments WHERE id = ?"
ADD_FLAG = (
    "INSERT INTO flags (tenant_id, comment_id, user_id, reason, created_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, comment_id, user_id) DO NOTHING"
)
COUNT_FLAG = (
    "UPDATE comments SET flag_count = flag_count + 1 WHERE id = ? RETURNING flag_count, hidden"
)
AUTO_HIDE_FLAGS = "SELECT auto_hide_flags FROM tenant_moderation WHERE tenant_id = ?"
# A moderator's decision (hide, restore, dismiss) settles the flags waiting on a comment.
SET_HIDDEN = "UPDATE comments SET hidden = ?, flag_count = 0 WHERE id = ?"
AUTO_HIDE = "UPDATE comments SET hidden = ? WHERE id = ?"
CLEAR_FLAGS = "UPDATE comments SET flag_count = 0 WHERE id = ?"
DELETE_FLAGS = "DELETE FROM flags WHERE tenant_id = ? AND comment_id = ?"
LOCK_IMAGE = "UPDATE channels SET locked = ? WHERE id = ?"
SITE_READONLY = "SELECT readonly FROM tenants WHERE id = ?"
