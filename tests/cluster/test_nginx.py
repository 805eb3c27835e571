"""The nginx configuration of docs/scaling.md, run for real in front of three nodes: viewers
that land on different nodes see each other's markers at once."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from imagechat.client import ImageChatClient, LiveClient
from tests.cluster.conftest import Cluster
from tests.cluster.processes import NGINX, Nginx
from tests.cluster.workload import new_tenant
from tests.conftest import missing_service

pytestmark = pytest.mark.cluster

DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"


def documented_site(upstreams: list[int], port: int) -> str:
    """The doc's nginx block, pointed at the test's nodes and port."""
    text = DOC.read_text()
    found = re.search(r"<!-- nginx:start -->\s*```nginx\n(.*?)```\s*<!-- nginx:end -->", text, re.S)
    assert found, "docs/scaling.md has no nginx block between its markers"
    site = found.group(1)
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+[^;]*;$", site, re.M)
    assert len(servers) == 3, "the documented upstream names three nodes"
    for line, node_port in zip(servers, upstreams, strict=True):
        site = site.replace(line, re.sub(r":\d+", f":{node_port}", line, count=1), 1)
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    assert f"127.0.0.1:{port}" in site
    return site


@pytest.fixture()
def nginx(cluster: Cluster, tmp_path: Path) -> Iterator[Nginx]:
    if not os.path.exists(NGINX):
        missing_service(f"{NGINX} is missing (apt-get install nginx-light)")
    cluster.start()
    proxy = Nginx(tmp_path / "nginx", "")
    proxy.site = documented_site([node.port for node in cluster.nodes], proxy.port)
    proxy.start()
    yield proxy
    proxy.stop()


async def test_viewers_behind_nginx_on_different_nodes_see_each_others_markers(
    cluster: Cluster, nginx: Nginx
) -> None:
    tenant, _ = await new_tenant(cluster.nodes[0])
    async with (
        ImageChatClient(nginx.url, tenant) as rest_a,
        ImageChatClient(nginx.url, tenant) as rest_b,
    ):
        await rest_a.guest_session("Ada")
        await rest_b.guest_session("Bob")
        async with (
            LiveClient(nginx.url, tenant, rest=rest_a) as a,
            LiveClient(nginx.url, tenant, rest=rest_b) as b,
        ):
            await a.subscribe("shared")
            await b.subscribe("shared")
            spread = [node.health()["connections"] for node in cluster.nodes]
            assert sorted(spread) == [0, 1, 1], f"both landed on one node: {spread}"
            # At once: Redis carries them. (A node reads an event from the log only when its
            # head check happens to run while the event is on its way: rarely, not always.)
            carried = 0
            for writer, rest, other in [(a, rest_a, b), (b, rest_b, a)] * 2:
                repairs = sum(int(node.health()["repairs"]) for node in cluster.nodes)
                made = await rest.create_chat("shared", 10, 20, f"from {writer is a}")
                seen = await asyncio.wait_for(other.events.get(), 5)
                assert seen.event["chat"]["id"] == made["chat"]["id"]
                mine = await asyncio.wait_for(writer.events.get(), 5)
                assert mine.own
                carried += sum(int(node.health()["repairs"]) for node in cluster.nodes) == repairs
            assert carried >= 2, f"only {carried} of 4 writes came through Redis"
            assert a.channels["shared"].chats == b.channels["shared"].chats
            assert a.channels["shared"].viewers == 2 or await _viewers(a, 2)
    # Plain HTTP goes through too, with the proxy's headers.
    answer = httpx.get(nginx.url + "/healthz", timeout=5)
    assert answer.status_code == 200 and answer.json()["broker"] == "redis"


async def _viewers(client: LiveClient, count: int) -> bool:
    deadline = time.monotonic() + 10
    while client.channels["shared"].viewers != count:
        assert time.monotonic() < deadline, client.channels["shared"].viewers
        await asyncio.sleep(0.05)
    return True
