"""Session tokens: signed with the tenant's secret, bound to the tenant, expiring."""

from __future__ import annotations

import base64

import orjson
import pytest

from imagechat.domain import keys, tokens
from imagechat.domain.errors import Forbidden, Unauthorized
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
    assert version == "v2"
    assert token.isascii() and " " not in token and "=" not in token
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["t"] == "a" and claims["u"] == "sso:1"
    assert mac


def test_expired() -> None:
    token = issue(expires=int(NOW))
    refused(token, "token_expired")  # expiry is exclusive
    refused(token, "token_expired", now=NOW + 3600)
    assert tokens.read(SECRET, "a", token, NOW - 1).user == ALICE


def foreign(token: str, *, tenant: str) -> None:
    with pytest.raises(Forbidden) as caught:
        tokens.read(SECRET, tenant, token, NOW)
    assert (caught.value.status, caught.value.code) == (403, "token_wrong_tenant")


def test_other_tenant() -> None:
    """A token names its tenant; the same secret cannot make it valid elsewhere: 403."""
    foreign(issue(tenant="b"), tenant="a")
    foreign(issue(), tenant="b")
    # Expired, or forged outright: still another tenant's, never let in.
    foreign(issue(tenant="b", expires=int(NOW) - 10), tenant="a")
    foreign(_swap_body(issue(tenant="b"), u="someone-else"), tenant="a")


def test_same_secret_on_two_tenants_makes_different_keys() -> None:
    """The signing key names the tenant: a token re-labelled for another tenant that happens
    to share the secret still fails its signature."""
    assert keys.token_key(SECRET, "a") != keys.token_key(SECRET, "b")
    relabelled = _swap_body(issue(tenant="a"), t="b")
    with pytest.raises(Unauthorized) as caught:
        tokens.read(SECRET, "b", relabelled, NOW)
    assert caught.value.code == "invalid_token"


def test_token_is_not_signed_with_the_secret_itself() -> None:
    """A token's MAC is under a derived key, so it can never double as an SSO hash."""
    import hashlib
    import hmac

    _version, body, mac = issue().split(".")
    raw = hmac.new(SECRET.encode(), f"v2.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != mac


def test_old_version_tokens_are_refused() -> None:
    _version, body, mac = issue().split(".")
    refused(f"v1.{body}.{mac}")


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
    refused(_swap_body(token, a="https://evil.example/x.png"))
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
        "v2.é.é",
        "v2.a.\udcff",
        "v2.W10.x",  # a JSON array, not an object
        "v2.bnVsbA.x",  # null
        "v2.e30.x",  # {}: no tenant at all is not another tenant
        "v2.eyJ0IjoxfQ.x",  # {"t":1}
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
        key = keys.token_key(SECRET, "a")
        mac = hmac.new(key, f"v2.{body}".encode(), hashlib.sha256).digest()
        return f"v2.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

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
