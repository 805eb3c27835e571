"""A site's moderation records and settings outside the event log: bans, the auto-hide
threshold, the site's own settings (origins, private, read-only) and its secret.

None of these is an event of an image; they take effect on the next request (the tenant
cache is told at once on this node, and forgets on its own within seconds elsewhere). When the
site's read-only state changes, `update_settings` says so, for its caller to tell the open
widgets (an event on each image).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from imagechat.domain import validation
from imagechat.domain.errors import NotFound
from imagechat.domain.models import Tenant
from imagechat.domain.times import now, to_rfc3339
from imagechat.storage.tables import bans, tenant_moderation, tenants, users
from imagechat.storage.tenant_cache import TenantCache
from imagechat.storage.transactions import Transactions
from imagechat.storage.values import as_utc


@dataclass(frozen=True, slots=True)
class Ban:
    user_id: str
    name: str | None
    reason: str
    banned_by: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "name": self.name,
            "reason": self.reason,
            "bannedBy": self.banned_by,
            "createdAt": to_rfc3339(self.created_at),
        }


class Moderation:
    def __init__(self, transactions: Transactions, cache: TenantCache) -> None:
        self._tx = transactions
        self._cache = cache

    # --- bans -------------------------------------------------------------------------------

    async def ban(self, tenant: Tenant, user_id: str, reason: str, by: str) -> Ban:
        """Refuse the user's writes from now on; banning twice keeps the first ban."""
        moment = now()
        try:
            async with self._tx.write() as conn:
                await conn.execute(
                    sa.insert(bans).values(
                        tenant_id=tenant.id,
                        user_id=user_id,
                        reason=reason,
                        banned_by=by,
                        created_at=moment,
                    )
                )
        except IntegrityError:
            pass  # banned already
        found = await self.bans(tenant, user_id=user_id)
        return found[0]

    async def unban(self, tenant: Tenant, user_id: str) -> None:
        async with self._tx.write() as conn:
            result = await conn.execute(
                sa.delete(bans).where(bans.c.tenant_id == tenant.id, bans.c.user_id == user_id)
            )
        if result.rowcount != 1:
            raise NotFound(f"user {user_id!r} is not banned", "ban_not_found")

    async def bans(self, tenant: Tenant, *, user_id: str | None = None) -> list[Ban]:
        query = (
            sa.select(bans, users.c.name)
            .select_from(
                bans.outerjoin(
                    users,
                    sa.and_(users.c.tenant_id == bans.c.tenant_id, users.c.id == bans.c.user_id),
                )
            )
            .where(bans.c.tenant_id == tenant.id)
            .order_by(bans.c.created_at.desc(), bans.c.user_id)
            .limit(1000)
        )
        if user_id is not None:
            query = query.where(bans.c.user_id == user_id)
        async with self._tx.read() as conn:
            result = await conn.execute(query)
            return [
                Ban(row.user_id, row.name, row.reason, row.banned_by, as_utc(row.created_at))
                for row in result
            ]

    # --- settings ---------------------------------------------------------------------------

    async def auto_hide_flags(self, tenant: Tenant) -> int:
        async with self._tx.read() as conn:
            value = (
                await conn.execute(
                    sa.select(tenant_moderation.c.auto_hide_flags).where(
                        tenant_moderation.c.tenant_id == tenant.id
                    )
                )
            ).scalar()
        return int(value or 0)

    async def update_settings(
        self,
        tenant: Tenant,
        *,
        origins: Sequence[str] | None = None,
        private: bool | None = None,
        readonly: bool | None = None,
        auto_hide_flags: int | None = None,
    ) -> bool:
        """Change what is given; True when the site's read-only state changed (its open
        widgets are then to be told)."""
        values: dict[str, Any] = {}
        if origins is not None:
            checked = [validation.origin(origin) for origin in origins]
            values["origins"] = orjson.dumps(sorted(set(checked), key=checked.index)).decode()
        if private is not None:
            values["private"] = private
        if readonly is not None:
            values["readonly"] = readonly
        changed = False
        async with self._tx.write() as conn:
            if readonly is not None:
                before = await conn.scalar(  # locked: racing changes take turns
                    sa.select(tenants.c.readonly).where(tenants.c.id == tenant.id).with_for_update()
                )
                changed = before is not None and bool(before) != readonly
            if values:
                await conn.execute(
                    sa.update(tenants).where(tenants.c.id == tenant.id).values(values)
                )
            if auto_hide_flags is not None:
                updated = await conn.execute(
                    sa.update(tenant_moderation)
                    .where(tenant_moderation.c.tenant_id == tenant.id)
                    .values(auto_hide_flags=auto_hide_flags)
                )
                if updated.rowcount == 0:
                    await conn.execute(
                        sa.insert(tenant_moderation).values(
                            tenant_id=tenant.id, auto_hide_flags=auto_hide_flags
                        )
                    )
        self._cache.forget(tenant.id)
        return changed
