"""Wall-clock helpers: RFC 3339 UTC strings with milliseconds, and UTC days."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


# The last moment written and its text: a write names its one moment several times (chat,
# comment, event, answer). A tuple is swapped whole, so threads may share it.
_last_written: tuple[datetime | None, str] = (None, "")


def to_rfc3339(moment: datetime) -> str:
    """`2026-11-26T10:00:00.000Z` for any aware or naive-UTC datetime."""
    global _last_written
    last = _last_written
    if last[0] is moment:
        return last[1]
    utc = moment if moment.tzinfo is None or moment.tzinfo is UTC else moment.astimezone(UTC)
    # isoformat (in C) pads the year to four digits and cuts to milliseconds, as we want.
    text = utc.isoformat(timespec="milliseconds")[:23] + "Z"
    _last_written = (moment, text)
    return text


def utc_day(moment: datetime | None = None) -> date:
    """The UTC day of a moment; a naive one is taken as UTC, never as the server's local time."""
    moment = moment or now()
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
