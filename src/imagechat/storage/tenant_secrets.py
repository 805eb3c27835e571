"""Rotating a tenant's API secret.

Every key the server uses for a tenant is the secret or derived from it (domain/keys.py), so
one new secret ends every session token, every SSO hash signed with the old one, and the old
X-API-Key at once. Other processes read tenants through Store.get_tenant, which caches them
for a few seconds (TenantCache.ttl): they refuse the old secret within that time.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from imagechat.domain import validation
from imagechat.domain.errors import Invalid, NotFound
from imagechat.storage.store import Store
from imagechat.storage.tables import tenants
from imagechat.storage.transactions import Transactions


async def rotate_secret(store: Store, tenant_id: str, new_secret: str | None = None) -> str:
    """Store a new API secret for the tenant (generated unless given) and return it."""
    try:
        validation.tenant_id(tenant_id)
    except Invalid:
        raise NotFound(f"tenant {tenant_id!r} does not exist", "tenant_not_found") from None
    secret = validation.api_secret(new_secret) if new_secret else secrets.token_urlsafe(32)
    async with Transactions(store.engine).write() as conn:
        changed = await conn.execute(
            sa.update(tenants).where(tenants.c.id == tenant_id).values(api_secret=secret)
        )
    if changed.rowcount != 1:
        raise NotFound(f"tenant {tenant_id!r} does not exist", "tenant_not_found")
    # This process must not go on accepting the old secret from its cache.
    store.tenants.cache.forget(tenant_id)
    return secret
