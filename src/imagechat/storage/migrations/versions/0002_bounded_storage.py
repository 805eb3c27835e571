"""64-bit channel ids, chat counts on the head, per-image usage rows, events that name their
chat and comment (and deleted words scrubbed from the log).

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # SQLite's INTEGER is 64-bit already.
        op.alter_column("events", "channel_id", type_=sa.BigInteger)
        op.alter_column("channels", "id", type_=sa.BigInteger)
        op.execute("ALTER SEQUENCE IF EXISTS channels_id_seq AS bigint")
    op.add_column(
        "channels", sa.Column("chat_count", sa.Integer, nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE channels SET chat_count = (SELECT count(*) FROM chats"
        " WHERE chats.tenant_id = channels.tenant_id AND chats.url_id = channels.url_id)"
    )
    op.add_column("events", sa.Column("chat_id", sa.String(40), nullable=True))
    op.add_column("events", sa.Column("comment_id", sa.String(40), nullable=True))
    op.create_index("ix_events_chat", "events", ["channel_id", "chat_id"])
    op.create_table(
        "channel_usage_daily",
        sa.Column("channel_id", sa.BigInteger, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("conversations_created", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("comments_created", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_channel_usage_tenant_day", "channel_usage_daily", ["tenant_id", "day"])
    _name_and_scrub_events(bind)


def _name_and_scrub_events(bind: Any) -> None:
    """Fill chat_id/comment_id of the existing log, and blank the words of comments that no
    longer exist (the log kept them before deleted words were scrubbed)."""
    living = {row[0] for row in bind.execute(sa.text("SELECT id FROM comments"))}
    rows = bind.execute(sa.text('SELECT channel_id, "offset", payload FROM events')).all()
    for channel_id, offset, payload in rows:
        event = orjson.loads(bytes(payload))
        chat = event.get("chat") if isinstance(event.get("chat"), dict) else None
        chat_id = chat.get("id") if chat else event.get("chatId")
        comment = event.get("comment") if isinstance(event.get("comment"), dict) else None
        comment_id = None
        if comment is not None and event.get("change") == "comment-deleted":
            event.pop("comment")
            event["commentId"] = comment.get("id")
        elif comment is not None:
            comment_id = comment.get("id")
            if comment_id not in living:
                comment["body"] = ""
        bind.execute(
            sa.text(
                "UPDATE events SET chat_id = :chat, comment_id = :comment, payload = :payload"
                ' WHERE channel_id = :channel AND "offset" = :offset'
            ),
            {
                "chat": chat_id,
                "comment": comment_id,
                "payload": orjson.dumps(event),
                "channel": channel_id,
                "offset": offset,
            },
        )


def downgrade() -> None:
    op.drop_index("ix_channel_usage_tenant_day", "channel_usage_daily")
    op.drop_table("channel_usage_daily")
    op.drop_index("ix_events_chat", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("comment_id")
        batch.drop_column("chat_id")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("chat_count")
