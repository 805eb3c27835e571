"""Cluster benchmark: three `imagechat serve` processes on PostgreSQL and Redis, on loopback.

Measures, in one run on one machine:

1. cross-node publish -> receive p50/p99 at 20 writes/s (writes on node 0, viewers on nodes 1
   and 2), with viewers on node 0 as the floor (same node, no Redis in the path), and the
   same workload with the in-process broker (the head check alone carries events, as before
   the Redis broker) as the peer;
2. delivered events/s with 1, 2 and 3 nodes on the same workload (a burst of writes spread
   over the nodes, the same viewers spread over the nodes);
3. the time to repair a lost message: revealed by a later event, and a lost tail caught by
   the head check (two in-process nodes whose broker drops chosen messages).

Its own redis-server on a free port, its own database (created and dropped), bounded in
count and time, loopback only.

    .venv/bin/python benchmarks/cluster.py                  # ~3 min
    .venv/bin/python benchmarks/cluster.py --write-readme   # also update README.md's table
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import psutil  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from wsclient import Conn, Counters  # noqa: E402

from imagechat.client import ImageChatClient, LiveClient  # noqa: E402
from imagechat.domain.events import EncodedEvent  # noqa: E402
from imagechat.realtime.broker import ChannelKey, Deliver, Health, Totals  # noqa: E402
from imagechat.storage.store import Store  # noqa: E402
from tests.cluster.processes import Node, RedisServer  # noqa: E402
from tests.conftest import _admin_execute  # noqa: E402
from tests.live.server import LiveServer  # noqa: E402

README = HERE / "README.md"
START = "<!-- cluster-results:start -->"
END = "<!-- cluster-results:end -->"
PG_SERVER = os.environ.get(
    "IMAGECHAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Every viewer and writer of the run comes from 127.0.0.1: the per-address limits would
# measure themselves, not the cluster.
NODE_KNOBS: dict[str, object] = {"write_rate": 0, "ws_connections_per_address": 0}
TENANT = "bench"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --- setup -----------------------------------------------------------------------------------


async def fresh_database() -> tuple[str, str]:
    name = f"imagechat_cluster_bench_{secrets.token_hex(4)}"
    await _admin_execute(PG_SERVER, f'CREATE DATABASE "{name}"')
    # Commits without waiting for this VM's disk: the benchmark measures delivery, and the
    # write path has its own numbers in the fan-out benchmark.
    await _admin_execute(PG_SERVER, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    store = await Store.open(url, run_migrations=True)
    await store.create_tenant(TENANT)
    await store.close()
    return name, url


async def token_for(url: str) -> str:
    async with ImageChatClient(url, TENANT) as rest:
        session = await rest.guest_session("Bench")
    return str(session["token"])


async def subscribers(
    nodes: list[Node], per_node: list[int], url_id: str, counters: Counters, sampled: int
) -> list[list[Conn]]:
    """Lean WebSocket viewers (benchmarks/wsclient.py): `per_node[i]` on node i."""
    loop = asyncio.get_running_loop()
    made: list[list[Conn]] = []
    for node, count in zip(nodes, per_node, strict=False):
        conns = []
        for i in range(count):
            _, conn = await loop.create_connection(
                lambda node=node, i=i: Conn(
                    counters,
                    "imagechat",
                    f"127.0.0.1:{node.port}",
                    "/ws",
                    tenant=TENANT,
                    url_id=url_id,
                    sampled=i < sampled,
                ),
                "127.0.0.1",
                node.port,
            )
            conns.append(conn)
        await asyncio.gather(*(c.ready for c in conns))
        made.append(conns)
    return made


def close_all(groups: list[list[Conn]]) -> None:
    for group in groups:
        for conn in group:
            if conn.transport is not None:
                conn.transport.close()


# --- 1. latency at 20 writes/s -----------------------------------------------------------------


async def latency_phase(nodes: list[Node], token: str, seconds: float, rate: float) -> dict:
    """Writes on node 0 at `rate`/s; viewers on every node. Latency per receiving node."""
    url_id = f"lat-{uuid.uuid4().hex[:6]}"
    counters = Counters()
    groups = await subscribers(nodes, [20] * len(nodes), url_id, counters, sampled=20)
    published: dict[bytes, float] = {}
    async with ImageChatClient(nodes[0].url, TENANT, token=token, timeout=60) as rest:
        await rest.create_chat(url_id, 1, 1, "warm-up")
        await asyncio.sleep(1.0)
        for conn in (c for g in groups for c in g):
            conn.samples.clear()
        count = int(seconds * rate)
        start = time.perf_counter()
        tasks = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            broadcast_id = str(uuid.uuid4())
            published[broadcast_id.encode()] = time.perf_counter()
            tasks.append(
                asyncio.create_task(
                    rest.create_chat(url_id, 2, 2, "x" * 140, broadcast_id=broadcast_id)
                )
            )
        await asyncio.gather(*tasks)
    await asyncio.sleep(6)  # the slowest path (the head check) has time to deliver
    # The writing node delivers to its own viewers the moment it publishes (no Redis in the
    # way), so the first receive there stands for the publish: what the other nodes add on
    # top of it is what crossing Redis costs, whatever the database took to commit.
    first_local: dict[bytes, float] = {}
    for conn in groups[0]:
        for received, bid in conn.samples:
            if bid in published and received < first_local.get(bid, float("inf")):
                first_local[bid] = received
    result: dict[str, Any] = {}
    for index, group in enumerate(groups):
        lat = [
            (received - first_local[bid]) * 1000
            for conn in group
            for received, bid in conn.samples
            if bid in first_local
        ]
        from_write = [
            (received - published[bid]) * 1000
            for conn in group
            for received, bid in conn.samples
            if bid in published
        ]
        result[f"node{index}"] = {
            "p50_ms": percentile(lat, 50),
            "p99_ms": percentile(lat, 99),
            "max_ms": max(lat) if lat else float("nan"),
            "write_p50_ms": percentile(from_write, 50),
            "write_p99_ms": percentile(from_write, 99),
            "received": len(lat),
            "expected": len(published) * len(group),
        }
    close_all(groups)
    return result


# --- 2. throughput with 1, 2, 3 nodes -------------------------------------------------------


async def throughput_phase(nodes: list[Node], token: str, viewers: int, writes: int) -> dict:
    """The same burst and the same viewers, spread over `len(nodes)` nodes."""
    url_id = f"thr-{len(nodes)}-{uuid.uuid4().hex[:6]}"
    counters = Counters()
    split = [
        viewers // len(nodes) + (1 if i < viewers % len(nodes) else 0) for i in range(len(nodes))
    ]
    groups = await subscribers(nodes, split, url_id, counters, sampled=0)
    rests = [ImageChatClient(node.url, TENANT, token=token, timeout=60) for node in nodes]
    await rests[0].create_chat(url_id, 1, 1, "warm-up")
    await asyncio.sleep(1.0)
    counters.reset(writes * viewers)
    loop = asyncio.get_running_loop()
    counters.done = loop.create_future()
    procs = [psutil.Process(node.process.pid) for node in nodes if node.process is not None]
    repairs_before = sum(int(str(node.health()["repairs"])) for node in nodes)
    cpu_before = [p.cpu_times() for p in procs]
    started = time.perf_counter()
    next_write = iter(range(writes))

    async def writer(k: int) -> None:
        for i in next_write:
            await rests[(k + i) % len(rests)].create_chat(url_id, 3, 3, "y" * 140)

    await asyncio.gather(*(writer(k) for k in range(8)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(counters.done, 60)
    finished = counters.last_recv or time.perf_counter()
    cpu = [
        (after.user + after.system) - (before.user + before.system)
        for before, after in zip(cpu_before, [p.cpu_times() for p in procs], strict=True)
    ]
    for rest in rests:
        await rest.aclose()
    close_all(groups)
    took = finished - started
    return {
        "nodes": len(nodes),
        "viewers": viewers,
        "writes": writes,
        "delivered": counters.delivered,
        "expected": writes * viewers,
        "seconds": took,
        "events_per_second": counters.delivered / took if took > 0 else 0.0,
        "server_cpu_seconds": sum(cpu),
        "log_reads": sum(int(str(node.health()["repairs"])) for node in nodes) - repairs_before,
    }


# --- 3. repair time -------------------------------------------------------------------------


class ScriptedBus:
    """Two in-process nodes; messages to node B are dropped while `drop` is set."""

    def __init__(self) -> None:
        self.nodes: list[ScriptedBroker] = []
        self.drop = False

    def broker(self) -> ScriptedBroker:
        node = ScriptedBroker(self)
        self.nodes.append(node)
        return node


class ScriptedBroker:
    name = "scripted"

    def __init__(self, bus: ScriptedBus) -> None:
        self.bus = bus
        self.deliver: Deliver | None = None

    async def start(self, deliver: Deliver, resync: Any) -> None:
        self.deliver = deliver

    def watch(self, key: ChannelKey) -> None: ...

    def unwatch(self, key: ChannelKey) -> None: ...

    def publish(self, event: EncodedEvent) -> None:
        if self.bus.drop:
            return
        for node in self.bus.nodes:
            if node is not self and node.deliver is not None:
                asyncio.get_running_loop().call_soon(node.deliver, event)

    def health(self) -> Health:
        return Health(True)

    async def exchange(self, viewers: Any, connections: Any) -> Totals | None:
        return None

    async def close(self) -> None:
        self.deliver = None


async def repair_phase(database_url: str, rounds: int, tails: int) -> dict:
    bus = ScriptedBus()
    store = await Store.open(database_url)
    a = LiveServer(database_url, broker=bus.broker(), write_rate=0)
    b = LiveServer(database_url, broker=bus.broker(), write_rate=0)
    a.store = b.store = store
    await a.start()
    await b.start()
    gap_check = b.settings.gap_check_seconds
    revealed: list[float] = []
    tail: list[float] = []
    try:
        async with ImageChatClient(a.url, TENANT) as rest, LiveClient(b.url, TENANT) as viewer:
            await rest.guest_session("Repair")
            channel = await viewer.subscribe("repair")

            async def arrival(chat_id: str, limit: float) -> float:
                deadline = time.perf_counter() + limit
                while chat_id not in channel.chats:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("a lost message was never repaired")
                    await asyncio.sleep(0.001)
                return time.perf_counter()

            for _ in range(rounds):
                bus.drop = True
                lost = await rest.create_chat("repair", 1, 1, "lost")
                bus.drop = False
                await asyncio.sleep(0.05)
                await rest.create_chat("repair", 2, 2, "reveals the gap")
                shown = time.perf_counter()  # its answer: the event was published before it
                revealed.append((await arrival(lost["chat"]["id"], 5) - shown) * 1000)
                await asyncio.sleep(0.05)
            for _ in range(tails):
                bus.drop = True
                written = time.perf_counter()
                lost = await rest.create_chat("repair", 3, 3, "lost tail")
                bus.drop = False
                tail.append((await arrival(lost["chat"]["id"], gap_check * 3) - written) * 1000)
                await asyncio.sleep(0.3)
    finally:
        a.store = b.store = None
        await a.stop()
        await b.stop()
        await store.close()
    return {
        "revealed_p50_ms": percentile(revealed, 50),
        "revealed_max_ms": max(revealed),
        "tail_p50_ms": percentile(tail, 50),
        "tail_max_ms": max(tail),
        "rounds": rounds,
        "tails": tails,
        "gap_check_seconds": gap_check,
        "repair_grace_ms": b.settings.repair_grace_ms,
    }


# --- 4. what a Redis channel per image costs ------------------------------------------------


async def channel_cost(redis_url: str, channels: int) -> dict:
    """SUBSCRIBE to `channels` image channels on one connection: time and Redis memory."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    subscriber = Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    try:
        before = int((await client.info("memory"))["used_memory"])
        names = [f"imagechat:e:bench:image-{i:07d}" for i in range(channels)]
        started = time.perf_counter()
        for first in range(0, channels, 500):
            await pubsub.subscribe(*names[first : first + 500])
        while int((await client.pubsub_numsub(names[-1]))[0][1]) < 1:
            await asyncio.sleep(0.001)
        took = time.perf_counter() - started
        after = int((await client.info("memory"))["used_memory"])
        started = time.perf_counter()
        for first in range(0, channels, 500):
            await pubsub.unsubscribe(*names[first : first + 500])
        await client.ping()
        untook = time.perf_counter() - started
    finally:
        await pubsub.aclose()
        await subscriber.aclose()
        await client.aclose()
    return {
        "channels": channels,
        "subscribe_us_per_channel": took / channels * 1e6,
        "unsubscribe_us_per_channel": untook / channels * 1e6,
        "redis_bytes_per_channel": (after - before) / channels,
    }


# --- the run --------------------------------------------------------------------------------


def start_nodes(directory: Path, database_url: str, broker: str, **knobs: object) -> list[Node]:
    nodes = [
        Node(directory / f"node{i}", database_url, broker, **{**NODE_KNOBS, **knobs})
        for i in range(3)
    ]
    for node in nodes:
        node.start()
    return nodes


async def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="imagechat-cluster-bench-"))
    name, database_url = await fresh_database()
    redis = RedisServer(directory / "redis")
    redis.start()
    load_before = os.getloadavg()
    psutil.cpu_percent(None)
    results: dict[str, Any] = {}
    nodes: list[Node] = []
    try:
        nodes = start_nodes(directory / "redis-nodes", database_url, redis.url)
        token = await token_for(nodes[0].url)
        print("latency at 20 writes/s (Redis broker) ...", flush=True)
        results["latency"] = await latency_phase(nodes, token, args.seconds, 20)
        print(json.dumps(results["latency"]), flush=True)
        # Interleaved and repeated: on a shared machine one run of each is mostly noise.
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: [], 3: []}
        for _ in range(args.repeat):
            for k in (1, 2, 3):
                print(f"throughput with {k} node(s) ...", flush=True)
                found = await throughput_phase(nodes[:k], token, args.viewers, args.writes)
                print(json.dumps(found), flush=True)
                runs[k].append(found)
        results["throughput"] = []
        for found in runs.values():
            ordered = sorted(found, key=lambda r: float(r["events_per_second"]))
            median = dict(ordered[len(ordered) // 2])
            median["low"] = ordered[0]["events_per_second"]
            median["high"] = ordered[-1]["events_per_second"]
            median["runs"] = len(ordered)
            results["throughput"].append(median)
        for node in nodes:
            node.stop()
        print("latency with the in-process broker (head check only, 5 s as before) ...")
        nodes = start_nodes(
            directory / "memory-nodes", database_url, "memory://", gap_check_seconds=5
        )
        results["before"] = await latency_phase(nodes, token, min(args.seconds, 6), 20)
        print(json.dumps(results["before"]), flush=True)
        for node in nodes:
            node.stop()
        nodes = []
        print("cost of a Redis channel per image ...", flush=True)
        results["channels"] = await channel_cost(redis.url, args.channels)
        print(json.dumps(results["channels"]), flush=True)
        print("repair time ...", flush=True)
        results["repair"] = await repair_phase(database_url, args.rounds, args.tails)
        print(json.dumps(results["repair"]), flush=True)
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
        await _admin_execute(PG_SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_percent_during": psutil.cpu_percent(None),
    }
    return results


def render(results: dict[str, Any]) -> str:
    lat, before, rep = results["latency"], results["before"], results["repair"]
    machine = results["machine"]
    lines = [
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine['cpus']} cores, "
        f"Python {machine['python']}; load average {machine['load_before'][0]} before, "
        f"{machine['load_after'][0]} after; whole-machine CPU "
        f"{machine['cpu_percent_during']:.0f} % during the run (other work included).",
        "",
        "**Publish → receive at 20 writes/s** (writes on node 0, 20 viewers per node):",
        "",
        "| path | publish → receive p50 ms | p99 ms | max ms | write → receive p50 / p99 ms "
        "| received / expected |",
        "|---|---|---|---|---|---|",
    ]
    for label, key, source in (
        ("same node (floor: no Redis; spread of the local fan-out)", "node0", lat),
        ("cross-node via Redis, node 1", "node1", lat),
        ("cross-node via Redis, node 2", "node2", lat),
        ("cross-node, in-process broker: head check (5 s) only (peer: before)", "node1", before),
    ):
        row = source[key]
        lines.append(
            f"| {label} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} | "
            f"{row['write_p50_ms']:.0f} / {row['write_p99_ms']:.0f} | "
            f"{row['received']} / {row['expected']} |"
        )
    lines += [
        "",
        "**Delivered events/s, same workload on 1, 2 and 3 nodes** "
        f"({results['throughput'][0]['viewers']} viewers of one image spread evenly, a burst of "
        f"{results['throughput'][0]['writes']} writes by 8 writers spread over the nodes; "
        "1, 2 and 3 nodes interleaved, the median of the runs shown):",
        "",
        "| nodes | delivered events/s (median; range) | ratio to 1 node | server CPU s (all nodes) "
        "| gaps read from the log | delivered / expected |",
        "|---|---|---|---|---|---|",
    ]
    base = results["throughput"][0]["events_per_second"] or 1
    for row in results["throughput"]:
        lines.append(
            f"| {row['nodes']} | {row['events_per_second']:,.0f} "
            f"({row['low']:,.0f}–{row['high']:,.0f}, {row['runs']} runs) | "
            f"{row['events_per_second'] / base:.2f} | {row['server_cpu_seconds']:.1f} | "
            f"{row['log_reads']} | {row['delivered']} / {row['expected']} |"
        )
    lines += [
        "",
        "**Repairing a lost message** (two in-process nodes on the same PostgreSQL, a broker that "
        f"drops chosen messages; repair grace {rep['repair_grace_ms']:.0f} ms, head check "
        f"{rep['gap_check_seconds']:.0f} s):",
        "",
        "| case | p50 ms | max ms | runs |",
        "|---|---|---|---|",
        "| revealed by the next event (from that write's answer, which follows its publish) | "
        f"{rep['revealed_p50_ms']:.1f} | "
        f"{rep['revealed_max_ms']:.1f} | {rep['rounds']} |",
        f"| lost tail, caught by the head check (from the write) | {rep['tail_p50_ms']:.0f} | "
        f"{rep['tail_max_ms']:.0f} | {rep['tails']} |",
    ]
    cost = results["channels"]
    lines += [
        "",
        f"**A Redis channel per image**: subscribing one connection to {cost['channels']:,} image "
        f"channels took {cost['subscribe_us_per_channel']:.1f} µs and "
        f"{cost['redis_bytes_per_channel']:.0f} bytes of Redis memory per channel "
        f"(unsubscribing {cost['unsubscribe_us_per_channel']:.1f} µs).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="latency phase length")
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tails", type=int, default=5)
    parser.add_argument("--channels", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each node count")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results = asyncio.run(run(args))
    table = render(results)
    print(table)
    print(json.dumps(results))
    if args.write_readme:
        text = README.read_text()
        block = f"{START}\n{table}\n{END}"
        if START in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), block, text, flags=re.S)
        else:
            text += "\n" + block + "\n"
        README.write_text(text)


if __name__ == "__main__":
    main()
