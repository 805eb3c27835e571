"""One runner per cluster: a PostgreSQL advisory lock held by whichever node took it first.

The holder keeps one connection open with a session-level lock; if the node dies, PostgreSQL
drops the connection and the lock with it, and another node takes over at its next try. On
SQLite there is one process by design, so it always holds the lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (advisory locks are numbered)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class ClusterLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self.name = name
        self._key = lock_key(name)
        self._conn: AsyncConnection | None = None
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def held(self) -> bool:
        return self._sqlite or self._conn is not None

    async def acquire(self) -> bool:
        """True while this process holds the lock (taking it if it is free)."""
        if self._sqlite:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(sa.text("SELECT 1"))  # still ours if still connected
                await self._conn.commit()
                return True
            except Exception as error:
                log.warning("lost the connection holding lock %r: %r", self.name, error)
                await self._drop()
        conn = await self._engine.connect()
        try:
            taken = await conn.scalar(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if taken:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            await self._conn.commit()
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
