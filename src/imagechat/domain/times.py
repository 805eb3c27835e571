"""Wall-clock helpers: RFC 3339 UTC strings with milliseconds, and UTC days."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(moment: datetime) -> str:
    """`2026-11-26T10:00:00.000Z` for any aware or naive-UTC datetime."""
    utc = moment if moment.tzinfo is None or moment.tzinfo is UTC else moment.astimezone(UTC)
    # isoformat (in C) pads the year to four digits and cuts to milliseconds, as we want.
    return utc.isoformat(timespec="milliseconds")[:23] + "Z"


def utc_day(moment: datetime | None = None) -> date:
    """The UTC day of a moment; a naive one is taken as UTC, never as the server's local time."""
    moment = moment or now()
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
