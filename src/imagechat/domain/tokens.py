"""Session tokens: signed with a key derived from the tenant's secret, bound to the tenant, and
expiring. The claims are readable by anyone (base64 JSON); only their signature is secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from imagechat.domain import keys
from imagechat.domain.errors import Forbidden, Unauthorized
from imagechat.domain.models import ROLES, User

# v2: signed with keys.token_key rather than the secret itself; v1 tokens are refused.
_VERSION = "v2"


@dataclass(frozen=True, slots=True)
class Session:
    tenant_id: str
    user: User
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, tenant_id: str, body: str) -> str:
    key = keys.token_key(secret, tenant_id)
    return _b64(hmac.new(key, f"{_VERSION}.{body}".encode(), hashlib.sha256).digest())


def issue(secret: str, session: Session) -> str:
    user = session.user
    claims = {
        "t": session.tenant_id,
        "u": user.id,
        "n": user.name,
        "a": user.avatar_url,
        "r": user.role,
        "e": session.expires_at,
    }
    body = _b64(orjson.dumps(claims))
    return f"{_VERSION}.{body}.{_mac(secret, session.tenant_id, body)}"


def read(secret: str, tenant_id: str, token: str, now_s: float) -> Session:
    """The session a token carries, or Unauthorized if it is forged or expired, Forbidden if it
    was made for another tenant."""
    parts = token.split(".")
    # Tokens are ASCII; compare_digest would raise TypeError on anything else.
    if len(parts) != 3 or parts[0] != _VERSION or not token.isascii():
        raise Unauthorized("malformed session token", "invalid_token")
    _, body, mac = parts
    claims = _claims(body)
    claimed_tenant = claims.get("t")
    if not isinstance(claimed_tenant, str):
        raise Unauthorized("malformed session token", "invalid_token")
    if claimed_tenant != tenant_id:
        # Refused whether or not it is genuine: no token of another tenant is valid here, and
        # this tenant's key cannot tell a genuine one from a forgery. 403 tells an honest
        # client that its session is fine but belongs elsewhere.
        raise Forbidden("session token belongs to another tenant", "token_wrong_tenant")
    if not hmac.compare_digest(_mac(secret, tenant_id, body), mac):
        raise Unauthorized("session token signature does not match", "invalid_token")
    try:
        session = Session(
            tenant_id=tenant_id,
            user=User(
                id=str(claims["u"]),
                name=str(claims["n"]),
                avatar_url=claims["a"] if isinstance(claims["a"], str) else None,
                role=claims["r"] if claims["r"] in ROLES else "guest",
            ),
            expires_at=_whole(claims["e"]),
        )
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("malformed session token", "invalid_token") from None
    if session.expires_at <= now_s:
        raise Unauthorized("session token has expired", "token_expired")
    return session


def _claims(body: str) -> dict[str, Any]:
    try:
        claims = orjson.loads(_unb64(body))
    except (orjson.JSONDecodeError, binascii.Error, ValueError):
        raise Unauthorized("malformed session token", "invalid_token") from None
    if not isinstance(claims, dict):
        raise Unauthorized("malformed session token", "invalid_token")
    return claims


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expiry must be a whole number of seconds")
    return value
