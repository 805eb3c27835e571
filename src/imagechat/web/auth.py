"""Who is asking: the tenant named in the path, its origin rule, and the caller's credentials."""

from __future__ import annotations

import time

from starlette.requests import HTTPConnection

from imagechat.domain import keys, permissions, tokens
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
    """The token's user: 401 when forged, malformed or expired, 403 when another tenant's."""
    return tokens.read(tenant.api_secret, tenant.id, token, time.time()).user


def caller(connection: HTTPConnection, tenant: Tenant) -> User | None:
    """The user behind a Bearer token or the admin behind an X-API-Key; None if neither.

    Roles come only from here: a verified token (whose role a verified SSO payload set) or the
    API key. Nothing in a request body or query can raise them."""
    api_key = connection.headers.get("x-api-key")
    if api_key is not None:
        if not keys.api_key_matches(tenant.api_secret, api_key):
            raise Unauthorized("X-API-Key does not match this tenant's secret", "invalid_api_key")
        return API_KEY_USER
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'", "invalid_token")
    return user_from_token(tenant, token.strip())
