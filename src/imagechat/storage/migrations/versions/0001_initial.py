"""Initial schema: tenants, users, channels, chats, comments, events, idempotency, usage.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("api_secret", sa.String(128), nullable=False),
        sa.Column("origins", sa.Text, nullable=False, server_default="[]"),
        sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("readonly", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("avatar_url", sa.Text, nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("url_id", sa.String(512), nullable=False),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("top_offset", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("history_floor", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("tenant_id", "url_id", name="uq_channels_tenant_url"),
    )
    op.create_table(
        "chats",
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
    )
    op.create_index("ix_chats_tenant_url", "chats", ["tenant_id", "url_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "chat_id",
            sa.String(40),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_comments_chat", "comments", ["chat_id", "created_at"])
    op.create_table(
        "events",
        sa.Column("channel_id", sa.Integer, sa.ForeignKey("channels.id"), primary_key=True),
        sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("broadcast_id", sa.String(36), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("broadcast_id", sa.String(36), primary_key=True),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])
    op.create_table(
        "usage_daily",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("pubsub_message_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("pubsub_bandwidth", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("conversations_created", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("comments_created", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("peak_connections", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in (
        "usage_daily",
        "idempotency_keys",
        "events",
        "comments",
        "chats",
        "channels",
        "users",
        "tenants",
    ):
        op.drop_table(table)
