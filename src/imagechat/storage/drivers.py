"""Run transactions written as steps (storage/steps.py) on SQLite or PostgreSQL.

SQLite: one thread of its own holds the one write connection and runs each write whole, so a
write costs one hop between the event loop and a thread, not one per statement, and writers
queued meanwhile commit together (a savepoint each). SQLite has a single writer anyway; that
thread's queue is where concurrent writers wait. Reads run whole in a small pool of reader
threads, each with its own connection: in WAL mode they never wait for the writer. The log is
checkpointed beside the writer, not inside its commits (checkpoints.py).

PostgreSQL: asyncpg straight from one pool, statements prepared once per connection. Writers
run truly in parallel and row locks (see write_sql.py) order them; a read is one REPEATABLE
READ, read-only transaction, so everything it reads is of one moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from imagechat.storage.checkpoints import Checkpointer
from imagechat.storage.sql_dialects import combined_inserts, prepared
from imagechat.storage.steps import Query, Steps
from imagechat.storage.values import for_sqlite

T = TypeVar("T")


class DuplicateKey(Exception):
    """A unique key refused the write: a concurrent one with the same key committed first."""


class Driver(Protocol):
    async def write(self, steps: Steps[T]) -> T:
        """Run every step in one transaction: commit when they finish, roll back if one fails."""

    async def read(self, steps: Steps[T]) -> T:
        """Run every step in one read-only transaction that sees one moment of the data."""

    async def close(self) -> None: ...

    def in_use(self) -> int:
        """Connections busy with a transaction right now."""


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_connection(path: str, *, reader: bool) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.row_factory = sqlite3.Row
    pragmas = ["journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"]
    if reader:
        pragmas.append("query_only=1")
    else:
        # Its commits never checkpoint: the Checkpointer does, beside it (checkpoints.py).
        # A log reset after a checkpoint is cut back to 64 MiB.
        pragmas += ["wal_autocheckpoint=0", f"journal_size_limit={64 * 1024 * 1024}"]
    for pragma in pragmas:
        db.execute(f"PRAGMA {pragma}")
    return db


def _drive_sqlite(db: sqlite3.Connection, steps: Steps[T]) -> T:
    answer: Any = None
    with contextlib.closing(steps):
        while True:
            try:
                query: Query = steps.send(answer)
            except StopIteration as done:
                result: T = done.value
                return result
            args = tuple(map(for_sqlite, query.args))
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


class SqliteDriver:
    def __init__(
        self, path: str, *, max_group: int = 64, readers: int = 2, checkpoint_seconds: float = 1.0
    ) -> None:
        self._path = path
        self.checkpointer = Checkpointer(path, interval=checkpoint_seconds)
        self._max_group = max_group
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="imagechat-reader")
        self._reader_connections: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._reader_count = readers
        self._reading = 0  # reads in flight, counted on the event loop
        self._writing = 0  # writes handed to the writer thread and not answered yet

    def in_use(self) -> int:
        return min(self._reading, self._reader_count) + (1 if self._writing else 0)

    # --- reads ----------------------------------------------------------------------------

    async def read(self, steps: Steps[T]) -> T:
        loop = asyncio.get_running_loop()
        self._reading += 1
        try:
            return await loop.run_in_executor(self._readers, self._read, steps)
        finally:
            self._reading -= 1

    def _read(self, steps: Steps[T]) -> T:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _sqlite_connection(self._path, reader=True)
            self._reader_connections.append(db)
        db.execute("BEGIN")
        try:
            return _drive_sqlite(db, steps)
        finally:
            db.execute("COMMIT")

    # --- writes ---------------------------------------------------------------------------

    async def write(self, steps: Steps[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._writer is None:
            self._writer = threading.Thread(target=self._work, name="imagechat-writer", daemon=True)
            self._writer.start()
            self.checkpointer.start()
        self._jobs.put(_Job(steps, loop, future))
        self._writing += 1
        try:
            return await future
        finally:
            self._writing -= 1

    async def close(self) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        await asyncio.to_thread(self.checkpointer.stop)
        self._readers.shutdown(wait=True)
        for db in self._reader_connections:
            db.close()
        self._reader_connections.clear()

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
        """One transaction for the group; each write in a savepoint, so it fails alone."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            if self._db is None:
                self._db = _sqlite_connection(self._path, reader=False)
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if len(group) == 1:  # alone: its own transaction, no savepoint needed
                    outcomes.append((True, _drive_sqlite(db, group[0].steps)))
                else:
                    outcomes.extend(self._in_savepoint(db, job) for job in group)
                db.execute("COMMIT")
                self.checkpointer.committed()
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except Exception as error:  # nothing of the group was written
            outcomes = [(False, error)] * len(group)
        self._settle(group, outcomes)

    @staticmethod
    def _in_savepoint(db: sqlite3.Connection, job: _Job) -> tuple[bool, Any]:
        db.execute("SAVEPOINT write")
        try:
            result = _drive_sqlite(db, job.steps)
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


# --- PostgreSQL ----------------------------------------------------------------------------------


class PostgresDriver:
    def __init__(self, dsn: str, *, max_size: int = 20) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    def in_use(self) -> int:
        pool = self._pool
        return 0 if pool is None else int(pool.get_size() - pool.get_idle_size())

    async def write(self, steps: Steps[T]) -> T:
        pool = await self._open()
        async with pool.acquire() as conn, conn.transaction():
            return await _drive_postgres(conn, steps)

    async def read(self, steps: Steps[T]) -> T:
        pool = await self._open()
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await _drive_postgres(conn, steps)

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


async def _drive_postgres(conn: Any, steps: Steps[T]) -> T:
    import asyncpg

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


async def _keep_session(_connection: Any) -> None:
    """Nothing to reset between transactions: they set no session state, take no advisory
    locks and listen to nothing, and each ended its transaction. (asyncpg's default reset
    costs a round trip per transaction.)"""


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
