"""Security tests run against a real server on a loopback port (tests/live/server.py): what
crosses the network is what an attacker can reach."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagechat.domain.models import Tenant
from tests.live.server import LiveServer


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'security.db'}"


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[LiveServer]:
    live = LiveServer(sqlite_url, usage_flush_seconds=3600, write_rate=0.0)
    await live.start()
    yield live
    await live.close()


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


async def new_tenant(server: LiveServer, tenant_id: str | None = None, **options: Any) -> Tenant:
    assert server.store is not None
    options.setdefault("api_secret", f"secret-{secrets.token_hex(8)}")
    return await server.store.create_tenant(tenant_id or f"t{secrets.token_hex(5)}", **options)


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/ws"
