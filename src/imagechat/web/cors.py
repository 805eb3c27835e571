"""CORS that follows each tenant's origin allowlist, as the API contract asks (docs/api.md).

With a list, `Access-Control-Allow-Origin` names the request's origin only when it is listed,
and a preflight from any other origin is refused (403 `origin_not_allowed`); with no list, and
outside `/api/v1/{tenantId}` (the widget's files, the docs), it is `*`. The allowlist itself
is enforced on every request by web/auth.py; these headers only tell browsers the same thing.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagechat.domain import permissions
from imagechat.domain.errors import Forbidden
from imagechat.web.responses import error_response

ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key"
EXPOSE_HEADERS = "Retry-After"
MAX_AGE = "600"
_TENANT_PATH = re.compile(r"/api/v1/([^/]+)(?:/|$)")


class TenantCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        raw_origin = headers.get(b"origin")
        tenant_path = _TENANT_PATH.match(scope["path"])
        if raw_origin is None:
            # Not a cross-origin browser request; still tell caches the answer depends on it.
            await self.app(scope, receive, _varying(send) if tenant_path else send)
            return
        origin = raw_origin.decode("latin-1")
        allowed, refusal = "*", None
        if tenant_path is not None:
            allowed, refusal = await _judge(scope, tenant_path.group(1), origin)
        preflight = scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        if preflight:
            response = (
                error_response(403, refusal.code, refusal.message)
                if refusal is not None
                else Response(status_code=200)
            )
            if refusal is None:
                response.headers.update(
                    {
                        "Access-Control-Allow-Origin": allowed,
                        "Access-Control-Allow-Methods": ALLOW_METHODS,
                        "Access-Control-Allow-Headers": ALLOW_HEADERS,
                        "Access-Control-Max-Age": MAX_AGE,
                    }
                )
            response.headers["Vary"] = "Origin"
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if refusal is None:
                    out["Access-Control-Allow-Origin"] = allowed
                    out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
                if tenant_path is not None:
                    out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _judge(scope: Scope, tenant_id: str, origin: str) -> tuple[str, Forbidden | None]:
    """What to name in Access-Control-Allow-Origin for this tenant, or why not to."""
    services = getattr(scope["app"].state, "services", None)
    tenant = None if services is None else await services.store.get_tenant(tenant_id)
    if tenant is None or not tenant.origins:
        return "*", None  # an unknown tenant's 404 may be read by anyone
    try:
        permissions.may_use_origin(tenant, origin)
    except Forbidden as refusal:
        return "", refusal
    return origin, None


def _varying(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return wrapped
