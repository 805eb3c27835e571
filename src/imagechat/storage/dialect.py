"""The one place where SQLite and PostgreSQL SQL differ: INSERT … ON CONFLICT."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT that supports on_conflict_do_nothing/on_conflict_do_update on both backends."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
