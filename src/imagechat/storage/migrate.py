"""`imagechat migrate`: bring a database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade to `revision` (the newest by default; an older one is for tests of upgrades)."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(sqlite_write=True)
        await connection.run_sync(_upgrade, revision)
        await connection.commit()
