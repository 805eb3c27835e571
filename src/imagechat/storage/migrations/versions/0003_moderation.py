"""Moderation: flags, hidden comments, bans, locked images, auto-hide setting.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "channels", sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "comments", sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "comments", sa.Column("flag_count", sa.Integer, nullable=False, server_default="0")
    )
    op.create_table(
        "flags",
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
    op.create_table(
        "bans",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("banned_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tenant_moderation",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("auto_hide_flags", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("tenant_moderation")
    op.drop_table("bans")
    op.drop_table("flags")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("flag_count")
        batch.drop_column("hidden")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("locked")
