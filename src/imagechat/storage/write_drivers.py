"""Run a write transaction (the steps of storage/writes.py) on SQLite or PostgreSQL.

SQLite: one thread of its own holds the one write connection and runs each transaction whole,
so a write costs one hop between the event loop and a thread, not one per statement. SQLite
has a single writer anyway; the thread's queue is where concurrent writers wait.

PostgreSQL: asyncpg straight from a small pool, statements prepared once per connection.
Concurrent writers run truly in parallel; row locks (see write_sql.py) order them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from imagechat.storage.values import for_sqlite
from imagechat.storage.write_sql import prepared
from imagechat.storage.writes import Query, Steps

T = TypeVar("T")


class DuplicateKey(Exception):
    """A unique key refused the write: a concurrent one with the same key committed first."""


class WriteDriver(Protocol):
    async def run(self, steps: Steps[T]) -> T:
        """Run every step in one transaction: commit when they finish, roll back if one fails."""

    async def close(self) -> None: ...


class SqliteWrites:
    """Every write transaction in one thread of its own, a whole transaction per hop."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imagechat-writer")
        self._db: sqlite3.Connection | None = None

    async def run(self, steps: Steps[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, steps)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30
            )
            db.row_factory = sqlite3.Row
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                "busy_timeout=30000",
            ):
                db.execute(f"PRAGMA {pragma}")
            self._db = db
        return self._db

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _transaction(self, steps: Steps[T]) -> T:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = self._drive(db, steps)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    @staticmethod
    def _drive(db: sqlite3.Connection, steps: Steps[T]) -> T:
        answer: Any = None
        with contextlib.closing(steps):
            while True:
                try:
                    query: Query = steps.send(answer)
                except StopIteration as done:
                    result: T = done.value
                    return result
                args = tuple(for_sqlite(value) for value in query.args)
                try:
                    cursor = db.execute(prepared(query.sql, "sqlite"), args)
                except sqlite3.IntegrityError as error:
                    if "UNIQUE" in str(error):
                        raise DuplicateKey(str(error)) from error
                    raise
                if query.fetch == "count":
                    answer = cursor.rowcount
                else:
                    rows = cursor.fetchall()
                    answer = rows if query.fetch == "all" else (rows[0] if rows else None)


class PostgresWrites:
    """Write transactions on asyncpg connections of a pool of their own."""

    def __init__(self, dsn: str, *, max_size: int = 20) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def run(self, steps: Steps[T]) -> T:
        import asyncpg

        pool = await self._open()
        async with pool.acquire() as conn, conn.transaction():
            answer: Any = None
            with contextlib.closing(steps):
                while True:
                    try:
                        query: Query = steps.send(answer)
                    except StopIteration as done:
                        result: T = done.value
                        return result
                    statement = prepared(query.sql, "postgresql")
                    try:
                        if query.fetch == "one":
                            answer = await conn.fetchrow(statement, *query.args)
                        elif query.fetch == "all":
                            answer = await conn.fetch(statement, *query.args)
                        else:
                            status = await conn.execute(statement, *query.args)
                            answer = int(status.rsplit(" ", 1)[-1])
                    except asyncpg.UniqueViolationError as error:
                        raise DuplicateKey(str(error)) from error

    async def _open(self) -> Any:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    import asyncpg

                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._max_size
                    )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
