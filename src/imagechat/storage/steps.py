"""Database work written sans I/O: a transaction is a generator that yields the statements
it needs (`Query`) and receives their results. One body of rules then runs on SQLite and on
PostgreSQL alike (storage/drivers.py runs them), and reads and writes skip building SQL at
run time: statements are plain text with `?` placeholders (storage/sql*.py)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Row = Any  # sqlite3.Row or asyncpg.Record: both index by column name


@dataclass(frozen=True, slots=True)
class Query:
    """One statement for the driver: `one` row (or None), `all` rows, the `count` changed, or
    nothing (`later`): an INSERT whose outcome the transaction does not read, which a driver
    may send together with the next ones (PostgreSQL: one statement, one round trip)."""

    sql: str
    args: tuple[Any, ...]
    fetch: Literal["one", "all", "count", "later"]


Steps = Generator[Query, Any, T]


def one(statement: str, *args: Any) -> Steps[Row | None]:
    return (yield Query(statement, args, "one"))


def every(statement: str, *args: Any) -> Steps[list[Row]]:
    rows: list[Row] = yield Query(statement, args, "all")
    return rows


def run(statement: str, *args: Any) -> Steps[int]:
    count: int = yield Query(statement, args, "count")
    return count


def insert(statement: str, *args: Any) -> Steps[None]:
    """An INSERT whose result nobody reads; it fails the transaction if it fails."""
    yield Query(statement, args, "later")
