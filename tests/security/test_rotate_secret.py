"""`imagechat tenant rotate-secret ID`: a new secret ends old tokens, old SSO hashes and the old
API key: at once in the process that rotated, within the tenant cache's lifetime elsewhere."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest

from imagechat.domain import sso
from imagechat.domain.errors import NotFound
from imagechat.storage.store import Store
from imagechat.storage.tenant_cache import TenantCache
from tests.live.server import LiveServer
from tests.security.conftest import new_tenant
from tests.security.test_configuration import run


def sso_body(secret: str) -> dict[str, object]:
    data = sso.encode_user_data({"id": "1", "username": "ada"})
    moment = int(time.time() * 1000)
    return {
        "sso": {
            "userDataJSONBase64": data,
            "verificationHash": sso.sign(secret, data, moment),
            "timestamp": moment,
        }
    }


async def _credentials(http: httpx.AsyncClient, tenant_id: str, secret: str) -> dict[str, object]:
    base = f"/api/v1/{tenant_id}"
    token = (await http.post(f"{base}/sessions", json={"guest": {"name": "G"}})).json()["token"]
    return {"token": token, "sso": sso_body(secret), "secret": secret}


async def _refusals(http: httpx.AsyncClient, tenant_id: str, old: dict[str, object]) -> list[str]:
    """The codes the old credentials get now (empty strings where one is still accepted)."""
    base = f"/api/v1/{tenant_id}"
    write = await http.post(
        f"{base}/chats",
        json={"urlId": "i", "x": 1, "y": 1, "comment": "c", "broadcastId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {old['token']}"},
    )
    session = await http.post(f"{base}/sessions", json=old["sso"])
    usage = await http.get(f"{base}/usage", headers={"X-API-Key": str(old["secret"])})
    return [
        answer.json().get("code", "") if answer.status_code == 401 else ""
        for answer in (write, session, usage)
    ]


REFUSED = ["invalid_token", "sso_invalid_hash", "invalid_api_key"]


async def test_rotation_in_the_serving_process_takes_effect_at_once(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    old = await _credentials(http, tenant.id, tenant.api_secret)
    assert await _refusals(http, tenant.id, old) == ["", "", ""]
    assert server.store is not None
    new_secret = await server.store.rotate_secret(tenant.id)
    assert new_secret != tenant.api_secret and len(new_secret) >= 32
    assert await _refusals(http, tenant.id, old) == REFUSED
    fresh = await _credentials(http, tenant.id, new_secret)
    assert await _refusals(http, tenant.id, fresh) == ["", "", ""]
    with pytest.raises(NotFound):
        await server.store.rotate_secret("no-such-tenant")
    with pytest.raises(NotFound):
        await server.store.rotate_secret("bad\x00id")


async def test_cli_rotation_reaches_a_running_server_within_the_cache_lifetime(
    server: LiveServer, http: httpx.AsyncClient, tmp_path: object, sqlite_url: str
) -> None:
    tenant = await new_tenant(server)
    old = await _credentials(http, tenant.id, tenant.api_secret)
    done = await asyncio.to_thread(
        run, "tenant", "rotate-secret", tenant.id, "--database-url", sqlite_url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["tenantId"] == tenant.id and printed["apiSecret"] != tenant.api_secret
    rotated_at = time.monotonic()
    while await _refusals(http, tenant.id, old) != REFUSED:
        # Generous: the bound is the cache's lifetime; a loaded machine may add a little.
        assert time.monotonic() - rotated_at < TenantCache().ttl * 4, "old secret still works"
        await asyncio.sleep(0.2)
    fresh = await _credentials(http, tenant.id, printed["apiSecret"])
    assert await _refusals(http, tenant.id, fresh) == ["", "", ""]

    missing = await asyncio.to_thread(
        run, "tenant", "rotate-secret", "nobody", "--database-url", sqlite_url, cwd=tmp_path
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    chosen = await asyncio.to_thread(
        run,
        "tenant", "rotate-secret", tenant.id, "--secret", "chosen-secret-value",
        "--database-url", sqlite_url, cwd=tmp_path,
    )  # fmt: skip
    assert chosen.returncode == 0, chosen.stderr
    check = await Store.open(sqlite_url)
    try:
        stored = await check.get_tenant(tenant.id)
        assert stored is not None and stored.api_secret == "chosen-secret-value"
    finally:
        await check.close()
