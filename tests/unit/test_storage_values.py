"""Parameters as SQLite keeps them: the text SQLAlchemy writes, so both paths read alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from imagechat.storage.values import as_utc, for_sqlite


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC), "2026-11-26 10:00:00.123456"),
        (datetime(2026, 11, 26, 10, 0), "2026-11-26 10:00:00.000000"),
        (
            datetime(2026, 11, 26, 11, 0, 0, 5, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-26 10:00:00.000005",
        ),
        (date(2026, 1, 2), "2026-01-02"),
        ("text", "text"),
        (7, 7),
        (1.5, 1.5),
        (True, True),
        (None, None),
        (b"\x00", b"\x00"),
    ],
)
def test_values_are_stored_as_sqlalchemy_stores_them(value: object, stored: object) -> None:
    assert for_sqlite(value) == stored


def test_stored_moments_read_back_as_the_same_utc_moment() -> None:
    moment = datetime(2026, 11, 26, 11, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert as_utc(for_sqlite(moment)) == moment
