"""Integration fixtures: the REST API of a fresh tenant over the in-process ASGI app."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from restkit import Api, MakeApi

from imagechat.domain.models import Tenant


@pytest.fixture()
def make_api(
    app_client: httpx.AsyncClient, make_tenant: Callable[..., Awaitable[Tenant]]
) -> MakeApi:
    """`await make_api(private=True, origins=[...])`: a new tenant and its API."""

    async def build(**options: Any) -> Api:
        return Api(app_client, await make_tenant(**options))

    return build


@pytest.fixture()
async def api(make_api: MakeApi) -> Api:
    """The API of a public tenant with no origin list."""
    return await make_api()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no schema at all, to migrate step by step (and back)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    import asyncpg

    server = request.getfixturevalue("postgres_database_url")
    name = f"imagechat_migrate_{secrets.token_hex(4)}"
    admin = sa.engine.make_url(server).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()
