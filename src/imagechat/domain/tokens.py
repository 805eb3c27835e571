"""Session tokens: signed with the tenant's secret, bound to the tenant, and expiring."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from imagechat.domain.errors import Unauthorized
from imagechat.domain.models import ROLES, User

_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Session:
    tenant_id: str
    user: User
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{_VERSION}.{body}".encode(), hashlib.sha256).digest())


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
    return f"{_VERSION}.{body}.{_mac(secret, body)}"


def read(secret: str, tenant_id: str, token: str, now_s: float) -> Session:
    """The session a token carries, or Unauthorized if it is forged, foreign or expired."""
    parts = token.split(".")
    # Tokens are ASCII; compare_digest would raise TypeError on anything else.
    if len(parts) != 3 or parts[0] != _VERSION or not token.isascii():
        raise Unauthorized("malformed session token", "invalid_token")
    _, body, mac = parts
    if not hmac.compare_digest(_mac(secret, body), mac):
        raise Unauthorized("session token signature does not match", "invalid_token")
    try:
        claims = orjson.loads(_unb64(body))
        session = Session(
            tenant_id=str(claims["t"]),
            user=User(
                id=str(claims["u"]),
                name=str(claims["n"]),
                avatar_url=claims["a"],
                role=claims["r"] if claims["r"] in ROLES else "guest",
            ),
            expires_at=int(claims["e"]),
        )
    except (orjson.JSONDecodeError, binascii.Error, KeyError, TypeError, ValueError):
        raise Unauthorized("malformed session token", "invalid_token") from None
    if session.tenant_id != tenant_id:
        raise Unauthorized("session token belongs to another tenant", "invalid_token")
    if session.expires_at <= now_s:
        raise Unauthorized("session token has expired", "token_expired")
    return session
