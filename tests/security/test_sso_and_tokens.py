"""Secure SSO and session tokens over the wire: every bad payload or token is refused with 401
and its own code, and admin or moderator roles come only from verified SSO or the API key."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from imagechat.domain import limits, sso
from tests.live.server import LiveServer
from tests.security.conftest import new_tenant

ADA = {"id": "42", "username": "ada"}


def signed(secret: str, user: Any = ADA, *, timestamp: Any = None, data: str | None = None) -> dict:
    encoded = data if data is not None else sso.encode_user_data(user)
    moment = int(time.time() * 1000) if timestamp is None else timestamp
    return {
        "userDataJSONBase64": encoded,
        "verificationHash": sso.sign(secret, encoded, moment),
        "timestamp": moment,
    }


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_every_bad_sso_payload_is_401_with_a_clear_code(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    other = await new_tenant(server)
    secret = tenant.api_secret
    now = int(time.time() * 1000)
    forged = signed(secret)
    forged["verificationHash"] = "0" * 64
    tampered = signed(secret, {"id": "42", "username": "ada"})
    tampered["userDataJSONBase64"] = sso.encode_user_data({**ADA, "isAdmin": True})
    as_string = signed(secret)
    as_string["timestamp"] = str(as_string["timestamp"])
    bad_data = "sso_malformed_user_data"
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("forged hash", forged, "sso_invalid_hash"),
        ("data changed after signing", tampered, "sso_invalid_hash"),
        ("another tenant's secret", signed(other.api_secret), "sso_invalid_hash"),
        ("expired", signed(secret, timestamp=now - limits.SSO_MAX_AGE_MS - 60_000), "sso_expired"),
        ("future", signed(secret, timestamp=now + 3_600_000), "sso_future_timestamp"),
        ("timestamp as a string", as_string, "sso_invalid_timestamp"),
        ("timestamp as a float", signed(secret, timestamp=now + 0.5), "sso_invalid_timestamp"),
        ("malformed base64", signed(secret, data="%%%%"), "sso_malformed_user_data"),
        ("malformed JSON", signed(secret, data=b64(b"{nope")), "sso_malformed_user_data"),
        ("JSON array", signed(secret, data=b64(b"[1,2]")), "sso_malformed_user_data"),
        ("JSON string", signed(secret, data=b64(b'"ada"')), "sso_malformed_user_data"),
        ("missing id", signed(secret, {"username": "ada"}), "sso_malformed_user_data"),
        ("id of a wrong type", signed(secret, {"id": [1], "username": "a"}), bad_data),
        ("script avatar", signed(secret, {**ADA, "avatar": "javascript:alert(1)"}), bad_data),
        (
            "oversized user data",
            signed(secret, data="A" * (limits.MAX_SSO_USER_DATA + 4)),
            "sso_user_data_too_large",
        ),
    ]  # fmt: skip
    for name, payload, code in cases:
        answer = await http.post(f"/api/v1/{tenant.id}/sessions", json={"sso": payload})
        assert answer.status_code == 401, (name, answer.text)
        body = answer.json()
        assert body["status"] == "error" and body["code"] == code, (name, body)
        assert body["message"], name
    good = await http.post(f"/api/v1/{tenant.id}/sessions", json={"sso": signed(secret)})
    assert good.status_code == 200 and good.json()["user"]["role"] == "user"


def _swap_claims(token: str, **changes: Any) -> str:
    version, body, mac = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"{version}.{forged}.{mac}"


async def test_bad_tokens_are_401_and_write_nothing(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    base = f"/api/v1/{tenant.id}"
    token = (await http.post(f"{base}/sessions", json={"guest": {"name": "G"}})).json()["token"]
    sso_hash = signed(tenant.api_secret)["verificationHash"]
    cases = [
        (_swap_claims(token, r="admin"), "invalid_token"),
        (_swap_claims(token, e=int(time.time()) + 10**8), "invalid_token"),
        (_swap_claims(token, u="sso:someone"), "invalid_token"),
        (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), "invalid_token"),
        ("v1." + token.split(".", 1)[1], "invalid_token"),  # the previous format
        (sso_hash, "invalid_token"),  # an SSO hash is no token
        (tenant.api_secret, "invalid_token"),  # nor is the API secret
        ("x" * 5000, "invalid_token"),
    ]
    for bad, code in cases:
        answer = await http.post(
            f"{base}/chats",
            json={"urlId": "i", "x": 1, "y": 1, "comment": "c", "broadcastId": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {bad}"},
        )
        assert answer.status_code == 401, (bad[:40], answer.text)
        assert answer.json()["code"] == code
    # A token is no API key either.
    answer = await http.get(f"{base}/usage", headers={"X-API-Key": token})
    assert answer.status_code == 401 and answer.json()["code"] == "invalid_api_key"
    snapshot = (await http.get(f"{base}/chats", params={"urlId": "i"})).json()
    assert snapshot["offset"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"guest": {"name": "Eve", "role": "admin"}},
        {"guest": {"name": "Eve", "isAdmin": True, "isModerator": True}},
        {"guest": {"name": "Eve"}, "role": "admin"},
    ],
)
async def test_guests_cannot_name_their_own_role(
    server: LiveServer, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    tenant = await new_tenant(server)
    answer = await http.post(f"/api/v1/{tenant.id}/sessions", json=body, params={"role": "admin"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["role"] == "guest"


async def test_roles_come_only_from_verified_sso_or_the_api_key(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    base = f"/api/v1/{tenant.id}"

    async def session(user: dict[str, Any]) -> dict[str, Any]:
        answer = await http.post(f"{base}/sessions", json={"sso": signed(tenant.api_secret, user)})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    for flag in ("true", 1, "yes", None):
        made = await session({"id": "7", "username": "x", "isAdmin": flag, "isModerator": flag})
        assert made["user"]["role"] == "user", flag
    moderator = await session({"id": "m", "username": "mod", "isModerator": True})
    assert moderator["user"]["role"] == "moderator"
    admin = await session({"id": "a", "username": "boss", "isAdmin": True})
    assert admin["user"]["role"] == "admin"

    guest = (await http.post(f"{base}/sessions", json={"guest": {"name": "G"}})).json()["token"]
    made = await http.post(
        f"{base}/chats",
        json={"urlId": "i", "x": 1, "y": 1, "comment": "c", "broadcastId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {guest}"},
    )
    chat_id = made.json()["chat"]["id"]
    plain = await session({"id": "p", "username": "plain"})

    async def resolve(headers: dict[str, str]) -> httpx.Response:
        return await http.patch(
            f"{base}/chats/{chat_id}",
            json={"resolved": True, "broadcastId": str(uuid.uuid4())},
            headers=headers,
        )

    refused = await resolve({"Authorization": f"Bearer {plain['token']}"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_chat_author"
    assert (
        await http.get(f"{base}/usage", headers={"Authorization": f"Bearer {plain['token']}"})
    ).status_code == 403
    assert (await resolve({"Authorization": f"Bearer {moderator['token']}"})).status_code == 200
    assert (
        await http.get(f"{base}/usage", headers={"Authorization": f"Bearer {admin['token']}"})
    ).status_code == 200
    assert (
        await http.get(f"{base}/usage", headers={"X-API-Key": tenant.api_secret})
    ).status_code == 200
