"""Three `imagechat serve` processes on one PostgreSQL and one Redis: every viewer gets every
event once and in order, through node kills and every kind of broker fault."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from imagechat.domain.times import utc_day
from imagechat.storage.store import Store
from tests.cluster.conftest import Cluster
from tests.cluster.workload import (
    Viewer,
    Writers,
    check_exactly_once,
    close_all,
    converged_after,
    cross_node_latency,
    new_tenant,
    open_viewers,
    truth,
)

pytestmark = pytest.mark.cluster

IMAGES = ["one", "two", "three"]
# Seconds after a fault ends. The design gives at most the head check (2 s) plus a read; the
# bound is generous because this machine's cores are shared, and the measured time is printed.
CONVERGE = 10.0
FAST = 5.0  # seconds for a probe (sanity); that Redis carried it is checked by repair counts


async def wait_until_healthy(cluster: Cluster, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        states = [node.health() for node in cluster.nodes]
        if all(state["status"] == "ok" for state in states):
            return
        assert time.monotonic() < deadline, f"nodes still degraded: {states}"
        await asyncio.sleep(0.1)


async def test_viewers_on_every_node_mirror_the_database(cluster: Cluster) -> None:
    tenant, token = await new_tenant(cluster.nodes[0])
    viewers = await open_viewers(cluster.nodes, tenant, IMAGES, per_node=2)
    try:
        writers = Writers(cluster.nodes, tenant, token, IMAGES, count=3, pause=0.02)
        stop = asyncio.Event()
        running = asyncio.create_task(writers.run(stop))
        await asyncio.sleep(4)
        stop.set()
        await running
        expected = await truth(cluster.nodes[1], tenant, IMAGES)
        await converged_after(viewers, expected, CONVERGE)
        assert writers.failed == 0 and writers.done == sum(e["offset"] for e in expected.values())
        check_exactly_once(viewers, expected)
        latencies = await cross_node_latency(cluster.nodes, tenant, token, viewers, "one", 6)
        assert max(latencies) < FAST, latencies
    finally:
        await close_all(viewers)


async def _kill_a_node(cluster: Cluster, viewers: list[Viewer]) -> None:
    victim = cluster.nodes[2]
    victim.kill()
    # Its clients reconnect elsewhere, as a load balancer would send them.
    for viewer in viewers:
        if viewer.node == 2:
            viewer.client.server = cluster.nodes[0].url
            viewer.client.rest.server = cluster.nodes[0].url
    await asyncio.sleep(3)


async def _restart_redis(cluster: Cluster, viewers: list[Viewer]) -> None:
    cluster.redis.kill()
    cluster.redis.start()
    await asyncio.sleep(2)


async def _stop_redis_for_10_s(cluster: Cluster, viewers: list[Viewer]) -> None:
    cluster.redis.stop()
    await asyncio.sleep(1)
    states = [node.health() for node in cluster.nodes if node.alive]
    assert all(s["status"] == "degraded" and "Redis" in str(s["reason"]) for s in states), states
    await asyncio.sleep(9)
    cluster.redis.start()


async def _kill_pubsub_connections(cluster: Cluster, viewers: list[Viewer]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await asyncio.to_thread(cluster.redis.cli, "CLIENT", "KILL", "TYPE", "pubsub")
        await asyncio.sleep(0.3)


FAULTS: dict[str, Callable[[Cluster, list[Viewer]], Awaitable[None]]] = {
    "kill-9-a-node": _kill_a_node,
    "redis-restarted": _restart_redis,
    "redis-stopped-10s": _stop_redis_for_10_s,
    "pubsub-killed-every-300ms": _kill_pubsub_connections,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_under_load_a_fault_loses_nothing_and_the_fast_path_comes_back(
    cluster: Cluster, fault: str
) -> None:
    cluster.start()  # a node killed by an earlier case comes back
    await wait_until_healthy(cluster)
    tenant, token = await new_tenant(cluster.nodes[0])
    viewers = await open_viewers(cluster.nodes, tenant, IMAGES, per_node=2)
    try:
        writers = Writers(cluster.nodes, tenant, token, IMAGES, count=3, pause=0.03)
        stop = asyncio.Event()
        running = asyncio.create_task(writers.run(stop))
        await asyncio.sleep(1.5)
        await FAULTS[fault](cluster, viewers)
        stop.set()  # the fault is over: writes stop, everyone must catch up
        await running
        alive = [node for node in cluster.nodes if node.alive]
        expected = await truth(alive[0], tenant, IMAGES)
        took = await converged_after(viewers, expected, CONVERGE)
        print(f"{fault}: converged {took:.2f} s after the fault ended")
        assert writers.failed == 0, "a write was lost"
        assert writers.done == sum(e["offset"] for e in expected.values())
        check_exactly_once(viewers, expected)
        # Redis carries events again, without restarting any node.
        survivors = [v for v in viewers if cluster.nodes[v.node].alive]
        await wait_until_healthy_alive(alive)
        latencies = await cross_node_latency(alive, tenant, token, survivors, "two", 6)
        assert max(latencies) < FAST, (fault, took, latencies)
    finally:
        await close_all(viewers)


async def wait_until_healthy_alive(nodes: list, limit: float = 15.0) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + limit
    while not all(node.health()["status"] == "ok" for node in nodes):
        assert time.monotonic() < deadline, "the broker did not come back"
        await asyncio.sleep(0.1)


async def test_presence_is_summed_over_nodes(cluster: Cluster) -> None:
    cluster.start()
    tenant, _ = await new_tenant(cluster.nodes[0])
    a, b = cluster.nodes[0], cluster.nodes[1]
    viewers = await open_viewers([a], tenant, ["img"], per_node=2)
    viewers += [Viewer(v.client, 1) for v in await open_viewers([b], tenant, ["img"], per_node=3)]
    try:
        deadline = time.monotonic() + 10
        while any(v.client.channels["img"].viewers != 5 for v in viewers):
            assert time.monotonic() < deadline, [v.client.channels["img"].viewers for v in viewers]
            await asyncio.sleep(0.05)
        await viewers[0].client.close()  # one leaves on node A
        while any(v.client.channels["img"].viewers != 4 for v in viewers[1:]):
            assert time.monotonic() < deadline, [v.client.channels["img"].viewers for v in viewers]
            await asyncio.sleep(0.05)
    finally:
        await close_all(viewers)


async def test_usage_after_a_graceful_stop_equals_the_deliveries_seen(cluster: Cluster) -> None:
    cluster.start()
    await wait_until_healthy(cluster)
    tenant, token = await new_tenant(cluster.nodes[0])
    viewers = await open_viewers(cluster.nodes[:2], tenant, IMAGES, per_node=2)
    viewers += [
        Viewer(v.client, 2) for v in await open_viewers(cluster.nodes[2:], tenant, IMAGES, 1)
    ]
    try:
        writers = Writers(cluster.nodes, tenant, token, IMAGES, count=2, pause=0.05)
        stop = asyncio.Event()
        running = asyncio.create_task(writers.run(stop))
        await asyncio.sleep(2.5)  # long enough for the presence ticks to see all 5 connected
        stop.set()
        await running
        expected = await truth(cluster.nodes[0], tenant, IMAGES)
        await converged_after(viewers, expected, CONVERGE)
        delivered = check_exactly_once(viewers, expected)
    finally:
        await close_all(viewers)
    cluster.stop()  # graceful: each node writes its counts
    store = await Store.open(cluster.database_url)
    try:
        today = utc_day()
        (day,) = await store.usage(tenant, today, today)
    finally:
        await store.close()
        cluster.start()
    assert day["pubSubMessageCount"] == delivered
    assert day["peakConnections"] == 5, "the peak is the deployment's, not the largest node's"
