"""Values as each database keeps them: SQLite has no date or time types, PostgreSQL does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def as_utc(value: datetime | str) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def for_sqlite(value: Any) -> Any:
    """A parameter as SQLAlchemy would have stored it in SQLite, so both read it alike."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value
