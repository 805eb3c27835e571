"""One cluster for the cluster tests: its own redis-server, its own PostgreSQL database, three
`imagechat serve` processes on loopback. Needs PostgreSQL (IMAGECHAT_TEST_POSTGRES_URL) and
/usr/bin/redis-server; without them the tests skip, or fail under IMAGECHAT_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cluster.processes import REDIS_SERVER, Node, RedisServer
from tests.conftest import (
    POSTGRES_ENV,
    _admin_execute,
    _asyncpg_url,
    _migrate,
    missing_service,
    run_apart,
)

NODE_SETTINGS: dict[str, object] = {
    "gap_check_seconds": 2.0,
    "presence_interval": 0.5,
    "write_rate": 0,  # the tests write far faster than people
    "usage_flush_seconds": 3600,  # counts reach the database at the graceful stop
    "ping_interval": 5,
    "ping_timeout": 5,
}


class Cluster:
    def __init__(self, directory: Path, database_url: str, redis: RedisServer, size: int) -> None:
        self.directory = directory
        self.database_url = database_url
        self.redis = redis
        self.nodes = [
            Node(directory / f"node{i}", database_url, redis.url, **NODE_SETTINGS)
            for i in range(size)
        ]

    def start(self) -> None:
        for node in self.nodes:
            if not node.alive:
                node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="package")
def cluster_database_url() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        missing_service(f"{POSTGRES_ENV} is not set: cluster tests need PostgreSQL")
    assert server_url is not None
    name = f"imagechat_cluster_{secrets.token_hex(6)}"
    try:
        run_apart(_admin_execute(server_url, f'CREATE DATABASE "{name}"'))
    except Exception as error:
        missing_service(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {error!r}")
    url = make_url(_asyncpg_url(server_url)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        run_apart(_migrate(rendered))
        yield rendered
    finally:
        run_apart(_admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="package")
def cluster(
    cluster_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if not os.path.exists(REDIS_SERVER):
        missing_service(f"{REDIS_SERVER} is missing (apt-get install redis-server)")
    directory = tmp_path_factory.mktemp("cluster")
    redis = RedisServer(directory / "redis")
    redis.start()
    running = Cluster(directory, cluster_database_url, redis, size=3)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        redis.stop()
