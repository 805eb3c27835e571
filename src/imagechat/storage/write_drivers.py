"""Run a write transaction (the steps of storage/writes.py) on SQLite or PostgreSQL.

SQLite: one thread of its own holds the one write connection and runs each transaction whole,
so a write costs one hop between the event loop and a thread, not one per statement, and
writers queued meanwhile commit together. SQLite has a single writer anyway; the thread's
queue is where concurrent writers wait.

PostgreSQL: asyncpg straight from a small pool, statements prepared once per connection.
Concurrent writers run truly in parallel; row locks (see write_sql.py) order them.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from imagechat.storage.values import for_sqlite
from imagechat.storage.write_sql import combined_inserts, prepared
from imagechat.storage.writes import Query, Steps

T = TypeVar("T")


class DuplicateKey(Exception):
    """A unique key refused the write: a concurrent one with the same key committed first."""


class WriteDriver(Protocol):
    async def run(self, steps: Steps[T]) -> T:
        """Run every step in one transaction: commit when they finish, roll back if one fails."""

    async def close(self) -> None: ...


class SqliteWrites:
    """Every write transaction in one thread of its own, committed in groups.

    Writers that arrive while the thread is busy are taken together: one `BEGIN IMMEDIATE`
    and one `COMMIT` for the group, each write inside a savepoint of its own, so a write that
    fails rolls back alone. Under load that saves a thread hop and a commit per write; a lone
    write is one transaction as before.
    """

    def __init__(self, path: str, *, max_group: int = 64) -> None:
        self._path = path
        self._max_group = max_group
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None

    async def run(self, steps: Steps[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="imagechat-writer", daemon=True)
            self._thread.start()
        self._jobs.put(_Job(steps, loop, future))
        return await future

    async def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def _work(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                group = [job]
                stopping = False
                while len(group) < self._max_group:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stopping = True
                        break
                    group.append(more)
                self._commit(group)
                if stopping:
                    return
        finally:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _commit(self, group: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                if len(group) == 1:  # alone: its own transaction, no savepoint needed
                    outcomes.append((True, self._drive(db, group[0].steps)))
                else:
                    for job in group:
                        outcomes.append(self._in_savepoint(db, job))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except Exception as error:  # nothing of the group was written
            outcomes = [(False, error)] * len(group)
        self._settle(group, outcomes)

    def _in_savepoint(self, db: sqlite3.Connection, job: _Job) -> tuple[bool, Any]:
        db.execute("SAVEPOINT write")
        try:
            result = self._drive(db, job.steps)
        except Exception as error:
            db.execute("ROLLBACK TO write")
            db.execute("RELEASE write")
            return False, error
        db.execute("RELEASE write")
        return True, result

    @staticmethod
    def _settle(group: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
        """Hand each waiting writer its answer, on its own event loop, one wake-up per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, bool, Any]]] = {}
        for job, (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(job.loop, []).append((job, ok, value))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle, settled)

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
                if query.fetch == "later":
                    answer = None
                elif query.fetch == "count":
                    answer = cursor.rowcount
                else:
                    rows = cursor.fetchall()
                    answer = rows if query.fetch == "all" else (rows[0] if rows else None)


@dataclass(frozen=True, slots=True)
class _Job:
    steps: Steps[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


def _settle(settled: list[tuple[_Job, bool, Any]]) -> None:
    for job, ok, value in settled:
        if job.future.done():  # its caller gave up waiting; the write stands
            continue
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


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
            pending: list[Query] = []  # INSERTs nobody reads yet: sent together, later
            answer: Any = None
            with contextlib.closing(steps):
                while True:
                    try:
                        query: Query = steps.send(answer)
                    except StopIteration as done:
                        await _send_together(conn, pending)
                        result: T = done.value
                        return result
                    if query.fetch == "later":
                        pending.append(query)
                        answer = None
                        continue
                    await _send_together(conn, pending)
                    pending = []
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
                        self._dsn, min_size=1, max_size=self._max_size, reset=_keep_session
                    )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


async def _keep_session(_connection: Any) -> None:
    """Nothing to reset between writes: they set no session state, take no advisory locks
    and listen to nothing, and each ended its transaction. (asyncpg's default reset costs a
    round trip per write.)"""


async def _send_together(conn: Any, queries: list[Query]) -> None:
    """Several INSERTs as one statement (data-modifying CTEs): one round trip, not several."""
    import asyncpg

    if not queries:
        return
    statement = combined_inserts(tuple(query.sql for query in queries))
    args = [value for query in queries for value in query.args]
    try:
        await conn.execute(statement, *args)
    except asyncpg.UniqueViolationError as error:
        raise DuplicateKey(str(error)) from error
