"""Fixtures shared by every test folder: databases, the Store, tenants and the ASGI app.

`database_url` runs a test once per backend:

- ``sqlite``: a fresh file in the test's tmp_path, copied from a template migrated once per
  session (so each test starts empty and pays no migration).
- ``postgresql``: one database ``imagechat_test_<random>`` created (and migrated) per session on
  the server named by IMAGECHAT_TEST_POSTGRES_URL, dropped at the end. Tests share it, so they
  must use their own tenant ids: the ``tenant_id`` fixture gives a unique one.

Without IMAGECHAT_TEST_POSTGRES_URL the PostgreSQL runs skip with a reason; with
IMAGECHAT_REQUIRE_SERVICES=1 a missing or unreachable PostgreSQL fails them instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.engine import make_url

from imagechat.domain.models import Tenant
from imagechat.settings import Settings
from imagechat.storage.store import Store

T = TypeVar("T")

POSTGRES_ENV = "IMAGECHAT_TEST_POSTGRES_URL"
REQUIRE_SERVICES = os.environ.get("IMAGECHAT_REQUIRE_SERVICES") == "1"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def missing_service(reason: str) -> None:
    """Skip for a missing service, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (IMAGECHAT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


async def _migrate(url: str) -> None:
    store = await Store.open(url, run_migrations=True)
    await store.close()


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own, in a thread of its own.

    Session fixtures are first requested from whichever test comes first, sometimes inside a
    running event loop, where asyncio.run() refuses to start.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_apart(_migrate(sqlite_url(path)))
    return path


async def _admin_execute(server_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
        timeout=10,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this session, dropped afterwards."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        missing_service(f"{POSTGRES_ENV} is not set (e.g. postgresql+asyncpg://postgres@host/db)")
    assert server_url is not None
    base = make_url(_asyncpg_url(server_url))
    name = f"imagechat_test_{secrets.token_hex(6)}"
    try:
        run_apart(_admin_execute(server_url, f'CREATE DATABASE "{name}"'))
    except Exception as error:
        missing_service(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {error!r}")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        run_apart(_migrate(url))
        yield url
    finally:
        with contextlib.suppress(Exception):
            run_apart(_admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _asyncpg_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_database_url"))
    template: Path = request.getfixturevalue("_sqlite_template")
    path = tmp_path / "imagechat.db"
    shutil.copyfile(template, path)
    return sqlite_url(path)


@pytest.fixture()
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql', for the few assertions that differ between them."""
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


# --------------------------------------------------------------------------------------------
# Store and tenants
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def tenant_id() -> str:
    """A tenant id no other test uses (PostgreSQL runs share one database)."""
    return f"t-{secrets.token_hex(6)}"


@pytest.fixture()
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


MakeTenant = Callable[..., Awaitable[Tenant]]


@pytest.fixture()
def make_tenant(store: Store) -> MakeTenant:
    """Creates a tenant with a unique id; keyword arguments go to Store.create_tenant."""

    async def create(**options: Any) -> Tenant:
        options.setdefault("api_secret", f"secret-{secrets.token_hex(8)}")
        return await store.create_tenant(f"t-{secrets.token_hex(6)}", **options)

    return create


@pytest.fixture()
async def tenant(make_tenant: MakeTenant) -> Tenant:
    """A public tenant with no origin list."""
    return await make_tenant()


# --------------------------------------------------------------------------------------------
# The ASGI app
# --------------------------------------------------------------------------------------------


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an in-process app: quiet upkeep so that tests decide when things happen."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "usage_flush_seconds": 3600.0,
        "gap_check_seconds": 3600.0,
        # Tests fire requests far faster than people; a test about limits turns them back on.
        "write_rate": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_app(settings: Settings, store: Store | None) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an httpx client talking to it over ASGI."""
    from imagechat.web.app import create_app

    app = create_app(settings, store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


MakeAppClient = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture()
def make_app_client(database_url: str) -> MakeAppClient:
    """`async with make_app_client(store, max_replay=3) as client:` another app on the test's
    database, with Settings overrides; without a store the app opens its own."""

    def make(
        store: Store | None = None, **overrides: Any
    ) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        return running_app(app_settings(database_url, **overrides), store)

    return make


@pytest.fixture()
async def app_client(
    make_app_client: MakeAppClient, store: Store
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for `create_app(...)` on the test's database, lifespan running."""
    async with make_app_client(store) as client:
        yield client
