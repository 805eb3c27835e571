"""Migration 0003 (moderation) on a database of the 0002 schema, and back down."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from imagechat.storage.engine import create_engine
from imagechat.storage.migrate import MIGRATIONS, migrate


def _downgrade(connection: sa.Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_0003_keeps_every_row_with_nothing_hidden_flagged_or_locked(
    empty_database: str,
) -> None:
    engine = create_engine(empty_database)
    try:
        await migrate(engine, revision="0002")
        moment: object = datetime(2026, 11, 26, 10, tzinfo=UTC)
        if engine.dialect.name == "sqlite":
            moment = "2026-11-26 10:00:00.000000"
        async with engine.begin() as conn:
            for statement in (
                "INSERT INTO tenants VALUES ('t', 's', '[]', false, false, 'e', :now)",
                "INSERT INTO users VALUES ('t', 'u', 'U', NULL, 'guest', :now)",
                "INSERT INTO channels VALUES (1, 't', 'img', 'e', 1, 0, 1)",
                "INSERT INTO chats VALUES ('c1', 't', 'img', 1, 1, false, 1, 'u', NULL, NULL,"
                " :now, :now, 1)",
                "INSERT INTO comments VALUES ('m1', 'c1', 't', 'u', 'words', :now, NULL)",
            ):
                await conn.execute(sa.text(statement), {"now": moment})
        await migrate(engine)
        async with engine.begin() as conn:
            comment = (
                await conn.execute(sa.text("SELECT body, hidden, flag_count FROM comments"))
            ).one()
            locked = (await conn.execute(sa.text("SELECT locked FROM channels"))).scalar()
            await conn.execute(
                sa.text("INSERT INTO flags VALUES ('t', 'm1', 'u2', 'spam', :now)"),
                {"now": moment},
            )
            await conn.execute(
                sa.text("INSERT INTO bans VALUES ('t', 'u', 'spam', 'admin', :now)"),
                {"now": moment},
            )
        assert (comment.body, bool(comment.hidden), comment.flag_count) == ("words", False, 0)
        assert bool(locked) is False
        async with engine.connect() as conn:
            conn = await conn.execution_options(sqlite_write=True)
            await conn.run_sync(_downgrade, "0002")
            await conn.commit()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("comments")]
            )
            body = (await conn.execute(sa.text("SELECT body FROM comments"))).scalar()
        assert not {"flags", "bans", "tenant_moderation"} & set(tables)
        assert "hidden" not in columns and body == "words"
        await migrate(engine)  # and up again
    finally:
        await engine.dispose()
