"""The Store: the only door to the database. Reads, the write transactions, history, usage."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from imagechat.domain import validation
from imagechat.domain.epochs import new_epoch
from imagechat.domain.errors import Conflict, Invalid, NotFound
from imagechat.domain.models import Chat, Comment, Tenant, User
from imagechat.domain.times import now
from imagechat.domain.usage import UsageDelta
from imagechat.storage import rows, writes
from imagechat.storage.engine import create_engine, is_sqlite, normalize_url
from imagechat.storage.migrate import migrate
from imagechat.storage.tables import (
    channels,
    chats,
    comments,
    events,
    idempotency_keys,
    tenants,
    usage_daily,
)
from imagechat.storage.writes import WriteOutcome, add_usage

TENANT_CACHE_SECONDS = 5.0
RECORDED_USERS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    url_id: str
    epoch: str
    offset: int
    chats: list[Chat]


@dataclass(frozen=True, slots=True)
class History:
    """Events after an offset: all of them (`recovered`), or none when the log can't cover it."""

    recovered: bool
    epoch: str
    offset: int
    events: list[bytes]


class Store:
    def __init__(self, engine: AsyncEngine, *, max_replay: int = 1000) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.max_replay = max_replay
        # SQLite has one writer at a time anyway; queueing writers here instead of in its
        # busy handler keeps latency flat under concurrent writes from one process.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self._tenants: dict[str, tuple[float, Tenant | None]] = {}
        self._recorded_users: set[tuple[str, User]] = set()

    @classmethod
    async def open(cls, url: str, *, run_migrations: bool = False, max_replay: int = 1000) -> Store:
        store = cls(create_engine(normalize_url(url)), max_replay=max_replay)
        if run_migrations:
            await store.migrate()
        return store

    @staticmethod
    def default_migrates(url: str) -> bool:
        """`serve` migrates SQLite itself; a shared PostgreSQL is migrated on purpose."""
        return is_sqlite(normalize_url(url))

    async def migrate(self) -> None:
        await migrate(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction that sees one consistent snapshot of the database."""
        async with self.engine.connect() as conn:
            if not self.sqlite:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def _writer(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self.engine.connect() as conn:
            yield await conn.execution_options(sqlite_write=True)

    # --- tenants --------------------------------------------------------------------------

    async def create_tenant(
        self,
        tenant_id: str,
        *,
        api_secret: str | None = None,
        origins: Sequence[str] = (),
        private: bool = False,
        readonly: bool = False,
    ) -> Tenant:
        secret = validation.api_secret(api_secret) if api_secret else secrets.token_urlsafe(32)
        tenant = Tenant(
            id=validation.tenant_id(tenant_id),
            api_secret=secret,
            origins=tuple(validation.origin(o) for o in origins),
            private=private,
            readonly=readonly,
            epoch=new_epoch(),
        )
        try:
            async with self._writer() as conn, conn.begin():
                await conn.execute(
                    sa.insert(tenants).values(
                        id=tenant.id,
                        api_secret=tenant.api_secret,
                        origins=orjson.dumps(list(tenant.origins)).decode(),
                        private=private,
                        readonly=readonly,
                        epoch=tenant.epoch,
                        created_at=now(),
                    )
                )
        except IntegrityError:
            raise Conflict(f"tenant {tenant_id!r} already exists", "tenant_exists") from None
        self._tenants.pop(tenant.id, None)
        return tenant

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant, cached briefly so that each request does not cost a query."""
        try:
            validation.tenant_id(tenant_id)
        except Invalid:
            return None  # no such tenant can exist (and PostgreSQL refuses NUL in a query)
        cached = self._tenants.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id))).first()
        tenant = _tenant_from(row) if row is not None else None
        self._tenants[tenant_id] = (time.monotonic() + TENANT_CACHE_SECONDS, tenant)
        return tenant

    async def list_tenants(self) -> list[Tenant]:
        async with self.engine.connect() as conn:
            result = await conn.execute(sa.select(tenants).order_by(tenants.c.id))
            return [_tenant_from(row) for row in result]

    # --- reads ----------------------------------------------------------------------------

    async def snapshot(self, tenant: Tenant, url_id: str) -> Snapshot:
        """Every chat of an image and the offset they are current at, read together."""
        async with self._read() as conn:
            head = await _channel_head(conn, tenant, url_id)
            result = await conn.execute(
                rows.CHAT_SELECT.where(
                    chats.c.tenant_id == tenant.id, chats.c.url_id == url_id
                ).order_by(chats.c.created_at, chats.c.id)
            )
            found = [rows.chat_from(row) for row in result]
        return Snapshot(url_id, head.epoch, head.top_offset, found)

    async def chat_with_comments(self, tenant: Tenant, chat_id: str) -> tuple[Chat, list[Comment]]:
        async with self._read() as conn:
            chat = await rows.load_chat(conn, tenant.id, chat_id)
            if chat is None:
                raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
            result = await conn.execute(
                rows.COMMENT_SELECT.where(comments.c.chat_id == chat_id).order_by(
                    comments.c.created_at, comments.c.id
                )
            )
            return chat, [rows.comment_from(row) for row in result]

    async def history(self, tenant: Tenant, url_id: str, epoch: str | None, since: int) -> History:
        """What a client at (epoch, since) missed: every event, or `recovered: false`."""
        async with self._read() as conn:
            head = await _channel_head(conn, tenant, url_id)
            # Without an epoch only offset 0 means anything: the start of whatever history is.
            recoverable = (
                (epoch == head.epoch or (epoch is None and since == 0))
                and head.history_floor <= since <= head.top_offset
                and head.top_offset - since <= self.max_replay
            )
            if not recoverable:
                return History(False, head.epoch, head.top_offset, [])
            found = await _event_payloads(conn, head.id, since, head.top_offset)
        return History(True, head.epoch, head.top_offset, found)

    async def head(self, tenant: Tenant, url_id: str) -> tuple[str, int]:
        """(epoch, top offset) of a channel: where a subscriber without an offset starts."""
        async with self.engine.connect() as conn:
            head = await _channel_head(conn, tenant, url_id)
        return head.epoch, head.top_offset

    async def heads(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, int]]:
        """(epoch, top offset) of many channels at once, for the live layer's periodic check."""
        found: dict[tuple[str, str], tuple[str, int]] = {}
        async with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                result = await conn.execute(
                    sa.select(
                        channels.c.tenant_id,
                        channels.c.url_id,
                        channels.c.epoch,
                        channels.c.top_offset,
                    ).where(sa.tuple_(channels.c.tenant_id, channels.c.url_id).in_(chunk))
                )
                for row in result:
                    found[(row.tenant_id, row.url_id)] = (row.epoch, int(row.top_offset))
        return found

    async def events_between(
        self, tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        """Events after..upto of one epoch, for repairing a gap; None if they are gone."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(channels).where(
                        channels.c.tenant_id == tenant_id, channels.c.url_id == url_id
                    )
                )
            ).first()
            if row is None or row.epoch != epoch or row.history_floor > after:
                return None
            found = await _event_payloads(conn, row.id, after, upto)
        return found if len(found) == upto - after else None

    # --- writes ---------------------------------------------------------------------------

    async def write(
        self, tenant: Tenant, actor: User, broadcast_id: str, name: str, op: writes.Operation
    ) -> WriteOutcome:
        """Run one write operation (see storage/writes.py) exactly once per broadcastId."""
        try:
            async with self._writer() as conn:
                known = (tenant.id, actor)
                outcome = await writes.run(
                    conn,
                    tenant,
                    actor,
                    broadcast_id,
                    name,
                    op,
                    record_user=known not in self._recorded_users,
                )
            if outcome.event is not None:  # committed, with the user row in it
                self._remember_user(known)
            return outcome
        except IntegrityError:
            # A concurrent retry with the same broadcastId committed first: answer as it did.
            async with self.engine.connect() as conn:
                stored = await writes.stored_outcome(conn, tenant.id, actor.id, broadcast_id, name)
            if stored is None:
                raise
            return stored

    async def upsert_user(self, tenant: Tenant, user: User) -> None:
        async with self._writer() as conn, conn.begin():
            await writes.upsert_user(conn, tenant.id, user, now())
        self._remember_user((tenant.id, user))

    def _remember_user(self, known: tuple[str, User]) -> None:
        if len(self._recorded_users) >= RECORDED_USERS_MAX:
            self._recorded_users.clear()
        self._recorded_users.add(known)

    # --- history upkeep ---------------------------------------------------------------------

    async def trim_history(self, tenant: Tenant, url_id: str, keep_last: int) -> int:
        """Drop all but the newest `keep_last` events of a channel; returns the new floor."""
        async with self._writer() as conn, conn.begin():
            head = await _channel_head(conn, tenant, url_id)
            return await _trim(conn, head, keep_last)

    async def trim_all_history(self, keep_last: int) -> int:
        """Trim every channel holding more than `keep_last` events; returns how many were."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                sa.select(
                    channels.c.id, channels.c.epoch, channels.c.top_offset, channels.c.history_floor
                ).where(channels.c.top_offset - channels.c.history_floor > keep_last)
            )
            heads = [
                _Head(row.id, row.epoch, int(row.top_offset), int(row.history_floor))
                for row in result
            ]
        for head in heads:  # one short transaction per channel: writers wait briefly, if at all
            async with self._writer() as conn, conn.begin():
                await _trim(conn, head, keep_last)
        return len(heads)

    async def reset_channel(self, tenant: Tenant, url_id: str) -> str:
        """Start a new history (epoch) for a channel, as after a restore; returns the epoch."""
        async with self._writer() as conn, conn.begin():
            head = await _channel_head(conn, tenant, url_id)
            epoch = new_epoch(after=head.epoch)
            await conn.execute(sa.delete(events).where(events.c.channel_id == head.id))
            await conn.execute(
                sa.update(channels)
                .where(channels.c.id == head.id)
                .values(epoch=epoch, top_offset=0, history_floor=0)
            )
        return epoch

    async def purge_idempotency(self, older_than: timedelta) -> int:
        async with self._writer() as conn, conn.begin():
            result = await conn.execute(
                sa.delete(idempotency_keys).where(
                    idempotency_keys.c.created_at < now() - older_than
                )
            )
        return int(result.rowcount or 0)

    # --- usage ----------------------------------------------------------------------------

    async def add_usage(self, deltas: Sequence[UsageDelta]) -> None:
        if not deltas:
            return
        async with self._writer() as conn, conn.begin():
            for delta in deltas:
                await add_usage(
                    conn,
                    delta.tenant_id,
                    datetime(delta.day.year, delta.day.month, delta.day.day, 12),
                    messages=delta.messages,
                    bandwidth=delta.bandwidth,
                    peak_connections=delta.peak_connections,
                )

    async def usage(self, tenant_id: str, first: date, last: date) -> list[dict[str, Any]]:
        """One row per day from `first` to `last`, zeros where nothing happened."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                sa.select(usage_daily).where(
                    usage_daily.c.tenant_id == tenant_id,
                    usage_daily.c.day >= first,
                    usage_daily.c.day <= last,
                )
            )
            by_day = {row.day: row for row in result}
        days = []
        day = first
        while day <= last:
            row = by_day.get(day)
            days.append(
                {
                    "day": day.isoformat(),
                    "pubSubMessageCount": int(row.pubsub_message_count) if row else 0,
                    "pubSubBandwidth": int(row.pubsub_bandwidth) if row else 0,
                    "conversationsCreated": int(row.conversations_created) if row else 0,
                    "commentsCreated": int(row.comments_created) if row else 0,
                    "peakConnections": int(row.peak_connections) if row else 0,
                }
            )
            day += timedelta(days=1)
        return days


@dataclass(frozen=True, slots=True)
class _Head:
    id: int
    epoch: str
    top_offset: int
    history_floor: int


async def _channel_head(conn: AsyncConnection, tenant: Tenant, url_id: str) -> _Head:
    """The channel's head; an image nobody wrote to yet is at offset 0 of the tenant's epoch."""
    row = (
        await conn.execute(
            sa.select(channels).where(
                channels.c.tenant_id == tenant.id, channels.c.url_id == url_id
            )
        )
    ).first()
    if row is None:
        return _Head(0, tenant.epoch, 0, 0)
    return _Head(row.id, row.epoch, int(row.top_offset), int(row.history_floor))


async def _trim(conn: AsyncConnection, head: _Head, keep_last: int) -> int:
    floor = max(head.history_floor, head.top_offset - keep_last)
    await conn.execute(
        sa.delete(events).where(events.c.channel_id == head.id, events.c.offset <= floor)
    )
    # Never lower the floor, nor raise it past what another trim already removed.
    await conn.execute(
        sa.update(channels)
        .where(channels.c.id == head.id, channels.c.history_floor < floor)
        .values(history_floor=floor)
    )
    return floor


async def _event_payloads(
    conn: AsyncConnection, channel_id: int, after: int, upto: int
) -> list[bytes]:
    result = await conn.execute(
        sa.select(events.c.payload)
        .where(events.c.channel_id == channel_id, events.c.offset > after, events.c.offset <= upto)
        .order_by(events.c.offset)
    )
    return [bytes(row.payload) for row in result]


def _tenant_from(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        api_secret=row.api_secret,
        origins=tuple(orjson.loads(row.origins)),
        private=bool(row.private),
        readonly=bool(row.readonly),
        epoch=row.epoch,
    )


__all__ = ["History", "Snapshot", "Store", "UsageDelta", "WriteOutcome"]
