"""Session tokens: signed with the tenant's secret, bound to the tenant, expiring."""

from __future__ import annotations

import base64

import orjson
import pytest

from imagechat.domain import tokens
from imagechat.domain.errors import Unauthorized
from imagechat.domain.models import User

SECRET = "tenant-a-secret"
NOW = 1_790_000_000.0
ALICE = User(id="sso:1", name="Alice", avatar_url="https://a.example/a.png", role="moderator")


def issue(
    user: User = ALICE, *, tenant: str = "a", expires: int = int(NOW) + 60, secret: str = SECRET
) -> str:
    return tokens.issue(secret, tokens.Session(tenant, user, expires))


def refused(
    token: str, code: str = "invalid_token", *, tenant: str = "a", now: float = NOW
) -> None:
    with pytest.raises(Unauthorized) as caught:
        tokens.read(SECRET, tenant, token, now)
    assert caught.value.code == code, caught.value.message
    assert caught.value.status == 401


def test_valid_token_round_trips() -> None:
    session = tokens.read(SECRET, "a", issue(), NOW)
    assert session == tokens.Session("a", ALICE, int(NOW) + 60)


def test_every_role_and_no_avatar_round_trip() -> None:
    for role in ("guest", "user", "moderator", "admin"):
        user = User(id="g:x", name="N", avatar_url=None, role=role)  # type: ignore[arg-type]
        assert tokens.read(SECRET, "a", issue(user), NOW).user == user


def test_token_shape() -> None:
    token = issue()
    version, body, mac = token.split(".")
    assert version == "v1"
    assert token.isascii() and " " not in token and "=" not in token
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["t"] == "a" and claims["u"] == "sso:1"
    assert mac


def test_expired() -> None:
    token = issue(expires=int(NOW))
    refused(token, "token_expired")  # expiry is exclusive
    refused(token, "token_expired", now=NOW + 3600)
    assert tokens.read(SECRET, "a", token, NOW - 1).user == ALICE


def test_other_tenant() -> None:
    """A token names its tenant; the same secret cannot make it valid elsewhere."""
    refused(issue(tenant="b"), tenant="a")
    refused(issue(), tenant="b")


def test_other_tenants_secret() -> None:
    refused(issue(secret="tenant-b-secret"))


def _swap_body(token: str, **changes: object) -> str:
    version, body, mac = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"{version}.{forged}.{mac}"


def test_tampered() -> None:
    token = issue(User(id="g:1", name="G", avatar_url=None, role="guest"))
    refused(_swap_body(token, r="admin"))  # promote oneself
    refused(_swap_body(token, e=int(NOW) + 10**9))  # extend one's session
    refused(_swap_body(token, u="sso:someone-else"))
    version, body, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    refused(f"{version}.{body}.{flipped}")
    refused(f"{version}.{body}x.{mac}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "v1.onlytwo",
        "v1.a.b.c",
        "v2.a.b",
        "V1.a.b",
        "..",
        "v1..",
        "v1.é.é",
        "v1.a.\udcff",
        "v1.💥.💥",
    ],
)
def test_malformed(token: str) -> None:
    refused(token)


def test_signed_but_malformed_claims_are_refused() -> None:
    """Only the secret's holder can make these, but they must still not crash the reader."""
    import hashlib
    import hmac

    def signed(body_bytes: bytes) -> str:
        body = base64.urlsafe_b64encode(body_bytes).rstrip(b"=").decode()
        mac = hmac.new(SECRET.encode(), f"v1.{body}".encode(), hashlib.sha256).digest()
        return f"v1.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    for raw in (
        b"not json",
        b"[]",
        b"42",
        b'{"t": "a"}',
        b'{"t":"a","u":"x","n":"n","a":null,"r":"guest","e":"soon"}',
    ):
        refused(signed(raw))
    # An unknown role is read as the least one.
    odd = signed(b'{"t":"a","u":"x","n":"n","a":null,"r":"root","e":9999999999}')
    assert tokens.read(SECRET, "a", odd, NOW).user.role == "guest"
