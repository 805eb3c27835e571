"""Values as each database keeps them: SQLite has no date or time types, PostgreSQL does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def as_utc(value: datetime | str) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_AS_IS = frozenset({str, int, float, bool, bytes, type(None)})


def for_sqlite(value: Any) -> Any:
    """A parameter as SQLAlchemy would have stored it in SQLite, so both read it alike."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # "2026-11-26 10:00:00.000000", with or without "+00:00" after it: cut that off.
        return value.isoformat(" ", "microseconds")[:26]
    if isinstance(value, date):
        return value.isoformat()
    return value
