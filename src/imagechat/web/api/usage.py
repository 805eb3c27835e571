"""GET /usage: per-day delivery and activity counters, for admins."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from imagechat.domain import permissions
from imagechat.domain.errors import Invalid, Unauthorized
from imagechat.domain.times import utc_day
from imagechat.web import auth
from imagechat.web.api.deps import ERRORS, CurrentTenant
from imagechat.web.services import services

router = APIRouter(tags=["usage"], responses=ERRORS)

MAX_DAYS = 366


def _day(name: str, value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name} must be a day as YYYY-MM-DD", "invalid_day") from None


@router.get("/usage", summary="Usage per UTC day (admin: X-API-Key or an SSO admin)")
async def usage(
    request: Request,
    tenant: CurrentTenant,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    actor = auth.caller(request, tenant)
    if actor is None:
        raise Unauthorized("usage needs X-API-Key or an admin session", "unauthorized")
    permissions.may_read_usage(actor)
    last = _day("to", to, utc_day())
    first = _day("from", from_, last - timedelta(days=29))
    if first > last:
        raise Invalid("from must not be after to", "invalid_day")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"ask for at most {MAX_DAYS} days at once", "invalid_day")
    found = services(request)
    await found.live.flush_usage()  # so the answer includes this node's latest deliveries
    return {"days": await found.store.usage(tenant.id, first, last)}
