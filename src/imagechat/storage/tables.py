"""SQLAlchemy Core tables. Migrations in migrations/versions must mirror any change here."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# 64-bit ids; SQLite's INTEGER PRIMARY KEY is already 64-bit (and only that spelling
# autoincrements there).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("api_secret", sa.String(128), nullable=False),
    sa.Column("origins", sa.Text, nullable=False, server_default="[]"),  # JSON list
    sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("readonly", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("epoch", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("avatar_url", sa.Text, nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per image: the head of its event log. Writers lock it to take the next offset.
channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("url_id", sa.String(512), nullable=False),
    sa.Column("epoch", sa.String(32), nullable=False),
    sa.Column("top_offset", sa.BigInteger, nullable=False, server_default="0"),
    # Events with offset <= history_floor have been trimmed from the log.
    sa.Column("history_floor", sa.BigInteger, nullable=False, server_default="0"),
    # Chats on the image now, kept with the head so the bound needs no count per write.
    sa.Column("chat_count", sa.Integer, nullable=False, server_default="0"),
    # Locked by a moderator: only moderators and admins write on this image.
    sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("tenant_id", "url_id", name="uq_channels_tenant_url"),
)

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("url_id", sa.String(512), nullable=False),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("comment_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("author_id", sa.String(200), nullable=False),
    sa.Column("page_url", sa.Text, nullable=True),
    sa.Column("image_src", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_chats_tenant_url", "tenant_id", "url_id"),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column(
        "chat_id", sa.String(40), sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("author_id", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
    # Hidden by a moderator (or by enough flags): shown to moderators only.
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    # Flags waiting for a moderator's decision (the rows of `flags`, counted on the comment).
    sa.Column("flag_count", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_comments_chat", "chat_id", "created_at"),
)

# The event log: the source of truth for live delivery and recovery.
events = sa.Table(
    "events",
    metadata,
    sa.Column("channel_id", sa.BigInteger, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("epoch", sa.String(32), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("broadcast_id", sa.String(36), nullable=False),
    # What the event is about, so that deleting a comment or a chat finds the events that
    # carry its words: comment_id is set only on events that hold that comment's body.
    sa.Column("chat_id", sa.String(40), nullable=True),
    sa.Column("comment_id", sa.String(40), nullable=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # the encoded event, sent as is
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_events_chat", "channel_id", "chat_id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("broadcast_id", sa.String(36), primary_key=True),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_idempotency_created", "created_at"),
)

# Conversations and comments created, per image and UTC day: writers on different images
# never share a row. A tenant's day adds these up (and usage_daily's own columns).
channel_usage_daily = sa.Table(
    "channel_usage_daily",
    metadata,
    sa.Column("channel_id", sa.BigInteger, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("conversations_created", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("comments_created", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_channel_usage_tenant_day", "tenant_id", "day"),
)

# Deliveries, bandwidth and peak connections per tenant and UTC day, added by each node's
# periodic flush (rare writes, so one row per tenant and day is no hot spot).
usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("pubsub_message_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("pubsub_bandwidth", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("conversations_created", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("comments_created", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("peak_connections", sa.BigInteger, nullable=False, server_default="0"),
)

# One row per person and flagged comment, until a moderator decides on the comment.
flags = sa.Table(
    "flags",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column(
        "comment_id",
        sa.String(40),
        sa.ForeignKey("comments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.String(200), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# People whose writes are refused (403 banned) on one site.
bans = sa.Table(
    "bans",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("user_id", sa.String(200), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("banned_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Moderation settings of a site; a site without a row has the defaults (no auto-hide).
tenant_moderation = sa.Table(
    "tenant_moderation",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    # Hide a comment once this many people flagged it; 0 leaves every decision to moderators.
    sa.Column("auto_hide_flags", sa.Integer, nullable=False, server_default="0"),
)
