"""Tenants (sites): created by operators, read on every request through a bounded cache."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from imagechat.domain import validation
from imagechat.domain.epochs import new_epoch
from imagechat.domain.errors import Conflict, Invalid, NotFound
from imagechat.domain.models import Tenant
from imagechat.domain.times import now
from imagechat.storage.tables import tenants
from imagechat.storage.tenant_cache import MISSING, TenantCache
from imagechat.storage.transactions import Transactions


class Tenants:
    def __init__(self, transactions: Transactions, cache: TenantCache | None = None) -> None:
        self._tx = transactions
        self.cache = cache or TenantCache()

    async def create(
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
            async with self._tx.write() as conn:
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
        self.cache.forget(tenant.id)
        return tenant

    async def get(self, tenant_id: str) -> Tenant | None:
        """The tenant, cached briefly so that each request does not cost a query."""
        try:
            validation.tenant_id(tenant_id)
        except Invalid:
            return None  # no such tenant can exist (and PostgreSQL refuses NUL in a query)
        cached = self.cache.get(tenant_id)
        if cached is not MISSING:
            return cached if isinstance(cached, Tenant) else None
        async with self._tx.engine.connect() as conn:
            row = (await conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id))).first()
        tenant = tenant_from(row) if row is not None else None
        self.cache.put(tenant_id, tenant)
        return tenant

    async def rotate_secret(self, tenant_id: str, new_secret: str | None = None) -> str:
        """Store a new API secret (generated unless given) and return it.

        Every key of a tenant is its secret or derived from it (domain/keys.py), so this ends
        every session token, SSO hash and X-API-Key made with the old one. This process
        forgets the tenant at once; others within their cache's TTL.
        """
        try:
            validation.tenant_id(tenant_id)
        except Invalid:
            raise NotFound(f"tenant {tenant_id!r} does not exist", "tenant_not_found") from None
        secret = validation.api_secret(new_secret) if new_secret else secrets.token_urlsafe(32)
        async with self._tx.write() as conn:
            changed = await conn.execute(
                sa.update(tenants).where(tenants.c.id == tenant_id).values(api_secret=secret)
            )
        if changed.rowcount != 1:
            raise NotFound(f"tenant {tenant_id!r} does not exist", "tenant_not_found")
        self.cache.forget(tenant_id)
        return secret

    async def list(self) -> list[Tenant]:
        async with self._tx.engine.connect() as conn:
            result = await conn.execute(sa.select(tenants).order_by(tenants.c.id))
            return [tenant_from(row) for row in result]


def tenant_from(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        api_secret=row.api_secret,
        origins=tuple(orjson.loads(row.origins)),
        private=bool(row.private),
        readonly=bool(row.readonly),
        epoch=row.epoch,
    )
