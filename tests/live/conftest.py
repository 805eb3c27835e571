from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imagechat.client import ImageChatClient
from tests.live.server import LiveServer


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[LiveServer]:
    live = LiveServer(sqlite_url, usage_flush_seconds=3600, presence_interval=0.2)
    await live.start()
    yield live
    await live.close()


@pytest.fixture
async def tenant(server: LiveServer) -> str:
    assert server.store is not None
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    await server.store.create_tenant(tenant_id, api_secret="secret-" + tenant_id)
    return tenant_id


@pytest.fixture
async def writer(server: LiveServer, tenant: str) -> AsyncIterator[ImageChatClient]:
    async with ImageChatClient(server.url, tenant) as client:
        await client.guest_session("Writer")
        yield client
