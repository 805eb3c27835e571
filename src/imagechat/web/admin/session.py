"""The console's sign-in: a cookie holding a session token signed with the site's secret,
and the CSRF tokens its forms carry.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it)
and Secure under TLS. Each form also carries a token derived from the session, so a request
forged without it is refused even where SameSite is not honoured. Rotating the secret signs
every console session out, like every other session of the site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from imagechat.domain import tokens
from imagechat.domain.errors import Forbidden, ImageChatError, Unauthorized
from imagechat.domain.models import Tenant, User
from imagechat.storage.store import Store

COOKIE = "imagechat_admin"
LOGIN_COOKIE = "imagechat_admin_login"  # the sign-in form's own CSRF token, before a session
SESSION_SECONDS = 12 * 3600
PATH = "/admin"


@dataclass(frozen=True, slots=True)
class Console:
    """Who is signed in to the console, for which site, and the token their forms carry."""

    tenant: Tenant
    user: User
    csrf: str


def csrf_for(tenant: Tenant, token: str) -> str:
    return hmac.new(
        tenant.api_secret.encode(), f"csrf.{token}".encode(), hashlib.sha256
    ).hexdigest()


def _cookie_value(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(COOKIE, "")
    tenant_id, _, token = raw.partition("~")
    return (tenant_id, token) if tenant_id and token else None


async def current(request: Request, store: Store) -> Console | None:
    """The signed-in console session, or None (no cookie, expired, secret rotated, role lost)."""
    found = _cookie_value(request)
    if found is None:
        return None
    tenant = await store.get_tenant(found[0])
    if tenant is None:
        return None
    try:
        session = tokens.read(tenant.api_secret, tenant.id, found[1], time.time())
    except ImageChatError:
        return None
    if not session.user.is_staff:
        return None
    return Console(tenant, session.user, csrf_for(tenant, found[1]))


def new_token(tenant: Tenant, user: User) -> str:
    expires = int(time.time()) + SESSION_SECONDS
    return tokens.issue(tenant.api_secret, tokens.Session(tenant.id, user, expires))


def set_cookie(request: Request, response: Response, tenant: Tenant, token: str) -> None:
    response.set_cookie(
        COOKIE,
        f"{tenant.id}~{token}",
        max_age=SESSION_SECONDS,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path=PATH)


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")


def login_token(request: Request) -> str:
    """The sign-in form's CSRF token: the one its cookie holds, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def keep_login_token(request: Request, response: Response, token: str) -> None:
    """Double submit: the form's token must match this cookie, which only our pages set."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def check_login_csrf(request: Request, given: str) -> None:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form expired: load the sign-in page again", "csrf_failed")


def check_csrf(console: Console, given: str) -> None:
    if not hmac.compare_digest(console.csrf.encode(), given.encode()):
        raise Forbidden("the form expired: load the page again", "csrf_failed")


def require(console: Console | None) -> Console:
    if console is None:
        raise Unauthorized("sign in to the console first", "unauthorized")
    return console
