"""The `imagechat` command line, run as a real subprocess on a fresh SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagechat.storage.store import Store

REPO = Path(__file__).resolve().parents[2]


def imagechat(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    env.pop("IMAGECHAT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "imagechat", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture()
def db(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "cli.db"
    return path, f"sqlite+aiosqlite:///{path}"


def test_migrate_creates_the_schema(db: tuple[Path, str], tmp_path: Path) -> None:
    path, url = db
    assert not path.exists()
    done = imagechat("migrate", "--database-url", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert path.exists()

    async def tables() -> list[str]:
        store = await Store.open(url)
        try:
            async with store.engine.connect() as conn:
                result = await conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
                return [row[0] for row in result]
        finally:
            await store.close()

    found = asyncio.run(tables())
    for table in ("tenants", "chats", "comments", "channels", "events", "idempotency_keys"):
        assert table in found
    # Running it again is harmless.
    again = imagechat("migrate", "--database-url", url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_tenant_create_list_and_duplicate(db: tuple[Path, str], tmp_path: Path) -> None:
    _, url = db
    made = imagechat(
        "tenant", "create", "acme",
        "--secret", "s3cret-value",
        "--origin", "https://a.example",
        "--origin", "https://B.example/",
        "--private",
        "--database-url", url,
        cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created == {
        "tenantId": "acme",
        "apiSecret": "s3cret-value",
        "origins": ["https://a.example", "https://b.example"],
        "private": True,
        "readonly": False,
    }

    generated = imagechat(
        "tenant", "create", "blog", "--readonly", "--database-url", url, cwd=tmp_path
    )
    assert generated.returncode == 0, generated.stderr
    blog = json.loads(generated.stdout)
    assert blog["tenantId"] == "blog"
    assert blog["readonly"] is True and blog["private"] is False
    assert isinstance(blog["apiSecret"], str) and len(blog["apiSecret"]) >= 32

    duplicate = imagechat("tenant", "create", "acme", "--database-url", url, cwd=tmp_path)
    assert duplicate.returncode != 0
    assert "acme" in duplicate.stderr and "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr

    listing = imagechat("tenant", "list", "--database-url", url, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    tenants = json.loads(listing.stdout)
    assert [t["tenantId"] for t in tenants] == ["acme", "blog"]
    assert tenants[0]["origins"] == ["https://a.example", "https://b.example"]
    assert tenants[0]["private"] is True
    assert "apiSecret" not in tenants[0]  # listing never prints secrets

    # What the CLI wrote is what the server reads.
    async def read() -> tuple[str, bool] | None:
        store = await Store.open(url)
        try:
            tenant = await store.get_tenant("acme")
            return None if tenant is None else (tenant.api_secret, tenant.private)
        finally:
            await store.close()

    assert asyncio.run(read()) == ("s3cret-value", True)


def test_tenant_create_refuses_bad_values(db: tuple[Path, str], tmp_path: Path) -> None:
    _, url = db
    for args in (
        ["Bad Id!"],
        ["ok", "--origin", "not an origin"],
        ["ok", "--secret", "s" * 129],  # longer than the database keeps
    ):
        done = imagechat("tenant", "create", *args, "--database-url", url, cwd=tmp_path)
        assert done.returncode != 0
        assert done.stderr.startswith("imagechat: "), done.stderr
        assert "Traceback" not in done.stderr


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "from-env.db"
    env_url = f"sqlite+aiosqlite:///{path}"
    env = dict(os.environ, IMAGECHAT_DATABASE_URL=env_url)
    env["PYTHONPATH"] = str(REPO / "src")
    done = subprocess.run(
        [sys.executable, "-m", "imagechat", "tenant", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert path.exists()


def test_trim_history_keeps_the_newest_events_of_each_image(
    db: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = db
    from imagechat.domain.models import User
    from imagechat.storage import writes

    async def fill() -> None:
        store = await Store.open(url, run_migrations=True)
        try:
            tenant = await store.create_tenant("trim")
            author = User("g:trim", "T", None, "guest")
            for url_id, count in (("big", 8), ("small", 2)):
                for i in range(count):
                    bid = f"00000000-0000-0000-0000-{len(url_id):04d}{i:08d}"
                    op = writes.create_chat(author, bid, url_id, 1, 1, "x", None, None)
                    await store.write(tenant, author, bid, "create_chat", op)
        finally:
            await store.close()

    async def histories() -> tuple[bool, bool, bool]:
        store = await Store.open(url)
        try:
            tenant = await store.get_tenant("trim")
            assert tenant is not None
            big_old = await store.history(tenant, "big", None, 0)
            head = await store.head(tenant, "big")
            big_recent = await store.history(tenant, "big", head[0], 5)
            small = await store.history(tenant, "small", None, 0)
            return big_old.recovered, big_recent.recovered, small.recovered
        finally:
            await store.close()

    asyncio.run(fill())
    done = imagechat("trim-history", "--keep", "3", "--database-url", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 image" in done.stdout
    assert asyncio.run(histories()) == (False, True, True)
    refused = imagechat("trim-history", "--keep", "-1", "--database-url", url, cwd=tmp_path)
    assert refused.returncode == 2 and "--keep" in refused.stderr


def test_reset_channel_starts_a_newer_epoch(db: tuple[Path, str], tmp_path: Path) -> None:
    _, url = db
    from imagechat.domain.epochs import generation

    async def prepare() -> str:
        store = await Store.open(url, run_migrations=True)
        try:
            return (await store.create_tenant("acme")).epoch
        finally:
            await store.close()

    async def head() -> tuple[str, int]:
        store = await Store.open(url)
        try:
            tenant = await store.get_tenant("acme")
            assert tenant is not None
            return await store.head(tenant, "cat.jpg")
        finally:
            await store.close()

    before = asyncio.run(prepare())
    done = imagechat("reset-channel", "acme", "cat.jpg", "--database-url", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    epoch, offset = asyncio.run(head())
    assert epoch in done.stdout and offset == 0
    assert generation(epoch) > generation(before)
    unknown = imagechat("reset-channel", "nobody", "cat.jpg", "--database-url", url, cwd=tmp_path)
    assert unknown.returncode == 2 and "nobody" in unknown.stderr
    bad = imagechat("reset-channel", "acme", "a\x01b", "--database-url", url, cwd=tmp_path)
    assert bad.returncode == 2 and "urlId" in bad.stderr
