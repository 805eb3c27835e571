"""Dependencies shared by the routes: the tenant, the caller, and the write path."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from imagechat.domain import limits, validation
from imagechat.domain.errors import Unauthorized
from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.web import auth
from imagechat.web.responses import JSONBytes
from imagechat.web.services import services


async def _tenant(request: Request, tenantId: Annotated[str, Path()]) -> Tenant:
    tenant = await auth.load_tenant(services(request).store, tenantId)
    auth.check_origin(request, tenant)
    return tenant


CurrentTenant = Annotated[Tenant, Depends(_tenant)]


async def _reader(request: Request, tenant: CurrentTenant) -> User | None:
    """Anyone may read a public tenant; a private one wants a session or the API key."""
    user = auth.caller(request, tenant)
    if user is None and tenant.private:
        raise Unauthorized("this site is private: sign in first", "unauthorized")
    return user


async def _writer(request: Request, tenant: CurrentTenant) -> User:
    user = auth.caller(request, tenant)
    if user is None:
        raise Unauthorized("writes need 'Authorization: Bearer <token>'", "unauthorized")
    if user is not auth.API_KEY_USER:  # a site's own backend is trusted with its secret
        limit_rate(request, tenant, user)
    return user


def limit_rate(request: Request, tenant: Tenant, user: User | None = None) -> None:
    """Writes and new sessions per tenant and client address, and per user where one is known,
    so one user spread over many addresses gets no more (429 with Retry-After)."""
    address = request.client.host if request.client else "?"
    services(request).write_limiter.check(f"{tenant.id}|{address}")
    if user is not None:
        limit_user(request, tenant, user)


def limit_user(request: Request, tenant: Tenant, user: User) -> None:
    # Addresses never contain "|", so an address key and a user key cannot meet.
    services(request).write_limiter.check(f"{tenant.id}|user|{user.id}")


Reader = Annotated[User | None, Depends(_reader)]
TenantId = Annotated[str, Path()]
ChatId = Annotated[str, Path(max_length=limits.MAX_ID_PARAMETER)]
CommentId = Annotated[str, Path(max_length=limits.MAX_ID_PARAMETER)]
BroadcastIdQuery = Annotated[str, Query(max_length=limits.MAX_ID_PARAMETER)]


async def writer_of(request: Request, tenant_id: str) -> tuple[Tenant, User]:
    """The tenant and the writer of a write route, as `CurrentTenant` and `Writer` give them.

    The write routes call this rather than declare those dependencies: resolving them is
    most of what FastAPI would spend on such a request.
    """
    tenant = await _tenant(request, tenant_id)
    return tenant, await _writer(request, tenant)


async def perform(
    request: Request,
    tenant: Tenant,
    actor: User,
    broadcast_id: str,
    name: str,
    operation: writes.Operation,
) -> JSONBytes:
    """Commit one write, then publish its event; a retry is answered from the first attempt."""
    found = services(request)
    started = time.perf_counter()
    outcome = await found.store.write(tenant, actor, broadcast_id, name, operation)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.observe_write(name, time.perf_counter() - started, outcome.event is not None)
    if outcome.event is not None:
        await found.live.publish(outcome.event)
    return JSONBytes(outcome.body, status_code=outcome.status)


def broadcast(value: str) -> str:
    return validation.broadcast_id(value)


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for status, description in (
        (400, "Malformed request"),
        (401, "No or bad credentials"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Too large"),
        (422, "Invalid values"),
        (429, "Rate limited"),
    )
}
