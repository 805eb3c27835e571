"""Who is asking: the tenant named in the path, its origin rule, and the caller's credentials."""

from __future__ import annotations

import hmac
import time

from starlette.requests import HTTPConnection

from imagechat.domain import permissions, tokens
from imagechat.domain.errors import NotFound, Unauthorized
from imagechat.domain.models import Tenant, User
from imagechat.storage.store import Store

API_KEY_USER = User(id="admin:api-key", name="Admin", avatar_url=None, role="admin")


async def load_tenant(store: Store, tenant_id: str) -> Tenant:
    tenant = await store.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id!r} does not exist", "tenant_not_found")
    return tenant


def check_origin(connection: HTTPConnection, tenant: Tenant) -> None:
    permissions.may_use_origin(tenant, connection.headers.get("origin"))


def user_from_token(tenant: Tenant, token: str) -> User:
    return tokens.read(tenant.api_secret, tenant.id, token, time.time()).user


def caller(connection: HTTPConnection, tenant: Tenant) -> User | None:
    """The user behind a Bearer token or the admin behind an X-API-Key; None if neither."""
    api_key = connection.headers.get("x-api-key")
    if api_key is not None:
        if not hmac.compare_digest(api_key.encode(), tenant.api_secret.encode()):
            raise Unauthorized("X-API-Key does not match this tenant's secret", "invalid_api_key")
        return API_KEY_USER
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'", "invalid_token")
    return user_from_token(tenant, token.strip())
