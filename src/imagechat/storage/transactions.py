"""Transactions for the SQLAlchemy side of the Store: the rare writes and reads of tenants,
upkeep and usage. What clients read and write on every request has its own, leaner path
(drivers.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Transactions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time anyway; queueing this process's writers here rather
        # than in its busy handler keeps them from spinning.
        self._write_lock = asyncio.Lock() if self.sqlite else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction that sees one consistent snapshot of the database."""
        async with self.engine.connect() as conn:
            if not self.sqlite:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed when the block ends."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self.engine.connect() as conn:
            conn = await conn.execution_options(sqlite_write=True)
            async with conn.begin():
                yield conn
