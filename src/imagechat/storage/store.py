"""The Store: the only door to the database. Each concern lives in a module of its own:

- writes.py (+ write_sql.py): every mutation, one transaction each;
- reads.py (+ read_sql.py): snapshots, threads, the event log for recovery;
- drivers.py: runs those (written as steps.py) on SQLite or PostgreSQL;
- tenants.py (+ tenant_cache.py): sites;
- upkeep.py: trimming the log, new epochs, purges;
- usage.py: usage counters;
- moderation.py, admin_reads.py: bans and site settings, what the operator console reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from imagechat.domain.models import Chat, Comment, Tenant, User
from imagechat.domain.usage import UsageDelta
from imagechat.storage import writes
from imagechat.storage.admin_reads import AdminReads
from imagechat.storage.drivers import Driver, DuplicateKey, PostgresDriver, SqliteDriver
from imagechat.storage.engine import create_engine, is_sqlite, normalize_url
from imagechat.storage.migrate import migrate
from imagechat.storage.moderation import Moderation
from imagechat.storage.reads import History, Reads, Snapshot
from imagechat.storage.tenants import Tenants
from imagechat.storage.transactions import Transactions
from imagechat.storage.upkeep import Upkeep
from imagechat.storage.usage import Usage
from imagechat.storage.writes import WriteOutcome

RECORDED_USERS_MAX = 10_000


class Store:
    def __init__(self, engine: AsyncEngine, *, max_replay: int = 1000) -> None:
        self.engine = engine
        self.max_replay = max_replay
        transactions = Transactions(engine)
        self._driver = _driver(engine)
        self.reads = Reads(self._driver, max_replay=max_replay)
        self.tenants = Tenants(transactions)
        self.upkeep = Upkeep(transactions)
        self.counters = Usage(transactions)
        self.moderation = Moderation(transactions, self.tenants.cache)
        self.admin_reads = AdminReads(self._driver)
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

    def connections_in_use(self) -> dict[str, int]:
        """Database connections busy right now, per pool: the driver's (event log, snapshots,
        writes) and SQLAlchemy's (tenants, usage, bans and settings)."""
        checked_out = getattr(self.engine.pool, "checkedout", None)
        return {
            "driver": self._driver.in_use(),
            "sqlalchemy": int(checked_out()) if callable(checked_out) else 0,
        }

    async def close(self) -> None:
        await self._driver.close()
        await self.engine.dispose()

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
        return await self.tenants.create(
            tenant_id, api_secret=api_secret, origins=origins, private=private, readonly=readonly
        )

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        return await self.tenants.get(tenant_id)

    async def rotate_secret(self, tenant_id: str, new_secret: str | None = None) -> str:
        return await self.tenants.rotate_secret(tenant_id, new_secret)

    async def list_tenants(self) -> list[Tenant]:
        return await self.tenants.list()

    # --- reads ----------------------------------------------------------------------------

    async def snapshot(self, tenant: Tenant, url_id: str) -> Snapshot:
        return await self.reads.snapshot(tenant, url_id)

    async def chat_with_comments(self, tenant: Tenant, chat_id: str) -> tuple[Chat, list[Comment]]:
        return await self.reads.chat_with_comments(tenant, chat_id)

    async def unlocked_images(self, tenant: Tenant) -> list[str]:
        return await self.reads.unlocked_images(tenant)

    async def history(self, tenant: Tenant, url_id: str, epoch: str | None, since: int) -> History:
        return await self.reads.history(tenant, url_id, epoch, since)

    async def head(self, tenant: Tenant, url_id: str) -> tuple[str, int]:
        return await self.reads.head(tenant, url_id)

    async def heads(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, int]]:
        return await self.reads.heads(keys)

    async def events_between(
        self, tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        return await self.reads.events_between(tenant_id, url_id, epoch, after, upto)

    # --- writes ---------------------------------------------------------------------------

    async def write(
        self, tenant: Tenant, actor: User, broadcast_id: str, name: str, op: writes.Operation
    ) -> WriteOutcome:
        """Run one write operation (see storage/writes.py) exactly once per broadcastId."""
        known = (tenant.id, actor)
        steps = writes.transaction(
            tenant,
            actor,
            broadcast_id,
            name,
            op,
            record_user=known not in self._recorded_users,
            max_replay=self.max_replay,
        )
        try:
            outcome = await self._driver.write(steps)
        except DuplicateKey:
            # A concurrent retry with the same broadcastId committed first: answer as it did.
            stored = await self._driver.write(
                writes.stored_outcome(tenant.id, actor.id, broadcast_id, name)
            )
            if stored is None:
                raise
            return stored
        if outcome.event is not None:  # committed, with the user row in it
            self._remember_user(known)
        return outcome

    def _remember_user(self, known: tuple[str, User]) -> None:
        if len(self._recorded_users) >= RECORDED_USERS_MAX:
            self._recorded_users.clear()
        self._recorded_users.add(known)

    # --- upkeep -----------------------------------------------------------------------------

    async def trim_history(self, tenant: Tenant, url_id: str, keep_last: int) -> int:
        return await self.upkeep.trim_history(tenant, url_id, keep_last)

    async def trim_all_history(self, keep_last: int) -> int:
        return await self.upkeep.trim_all_history(keep_last)

    async def reset_channel(self, tenant: Tenant, url_id: str) -> str:
        return await self.upkeep.reset_channel(tenant, url_id)

    async def purge_idempotency(self, older_than: timedelta) -> int:
        return await self.upkeep.purge_idempotency(older_than)

    # --- usage ----------------------------------------------------------------------------

    async def add_usage(self, deltas: Sequence[UsageDelta]) -> None:
        await self.counters.add(deltas)

    async def usage(self, tenant_id: str, first: date, last: date) -> list[dict[str, Any]]:
        return await self.counters.days(tenant_id, first, last)


def _driver(engine: AsyncEngine) -> Driver:
    url = engine.url
    if engine.dialect.name == "sqlite":
        path = url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            raise ValueError(
                "imagechat needs an SQLite database file (sqlite+aiosqlite:///path.db): "
                "an in-memory one would be a different database on every connection"
            )
        return SqliteDriver(path)
    dsn = make_url(str(url.render_as_string(hide_password=False))).set(drivername="postgresql")
    return PostgresDriver(dsn.render_as_string(hide_password=False))


__all__ = ["History", "Snapshot", "Store", "UsageDelta", "WriteOutcome"]
