"""The load generator of the fan-out benchmark: one process (pinned by fanout.py to its own
core) that holds N subscriber connections, issues the writes, and times everything.

    python benchmarks/loadgen.py --config run.json --out result.json

The config names the system ("imagechat", "socketio", "websockets" or "sendloop"), its address,
the server process id (for CPU and RSS, read with psutil), N and the two phases. The result is
one JSON object; fanout.py turns it into the tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import psutil
import uvloop
from httpclient import Http
from wsclient import Conn, Counters, client_frame

perf_counter = time.perf_counter

# Exactly 140 characters: the comment size the wire-size target is stated for.
COMMENT = (
    "The reflection on the left window looks off: could we retouch it before Friday? "
    "Also the crop cuts the signature at the bottom right of it!!"
)
assert len(COMMENT) == 140, len(COMMENT)
ROOM = "img"
TENANT = "bench"

SOURCE_ADDRESSES = [f"127.0.0.{i}" for i in range(2, 18)]  # spreads ephemeral ports


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def core_times() -> list[Any]:
    return list(psutil.cpu_times(percpu=True))


def core_usage(before: list[Any], after: list[Any]) -> list[dict[str, float]]:
    """Per core, the share of the window spent busy and in softirq (loopback TCP work is
    done there and charged to no process), and stolen by the hypervisor."""
    out = []
    for a, b in zip(before, after, strict=False):
        total = sum(b) - sum(a)
        if total <= 0:
            out.append({"busy": math.nan, "softirq": math.nan, "steal": math.nan})
            continue
        idle = (b.idle - a.idle) + (b.iowait - a.iowait)
        out.append(
            {
                "busy": 100 * (total - idle) / total,
                "softirq": 100 * (b.softirq - a.softirq) / total,
                "steal": 100 * (getattr(b, "steal", 0) - getattr(a, "steal", 0)) / total,
            }
        )
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, int(q * len(values)))]


# --- publishers ---------------------------------------------------------------------------------


class ImagechatWriters:
    """Writes through imagechat's REST API, several writers at once, each on a keep-alive
    connection of a lean HTTP/1.1 client (a client library would add its own CPU, on this
    core, to every publish -> receive time)."""

    def __init__(self, host: str, port: int, writers: int) -> None:
        self.host = host
        self.port = port
        self.count = writers
        self.clients: list[tuple[Http, str]] = []  # connection and session token
        self.errors: dict[str, int] = {}
        self.answered: dict[bytes, float] = {}  # broadcastId -> REST answer time, this phase

    async def setup(self) -> None:
        for i in range(self.count):
            http = Http(self.port, self.host)
            status, body = await http.request(
                "POST", f"/api/v1/{TENANT}/sessions", {"guest": {"name": f"Writer {i + 1}"}}
            )
            if status != 200:
                raise RuntimeError(f"no session: {status} {body[:200]!r}")
            self.clients.append((http, orjson.loads(body)["token"]))
        await self._write(self.clients[0], str(uuid.uuid4()), {})  # warm the write path up

    async def _write(self, client: tuple[Http, str], bid: str, pub: dict[bytes, float]) -> bool:
        http, token = client
        body = {
            "urlId": "img",
            "x": round(random.uniform(1, 99), 2),
            "y": round(random.uniform(1, 99), 2),
            "comment": COMMENT,
            "broadcastId": bid,
        }
        pub[bid.encode()] = sent = perf_counter()
        for _attempt in range(5):
            try:
                status, answer = await http.request("POST", f"/api/v1/{TENANT}/chats", body, token)
            except Exception as error:
                name = type(error).__name__
                self.errors[name] = self.errors.get(name, 0) + 1
                return False
            if status == 201:
                self.answered[bid.encode()] = perf_counter() - sent
                return True
            code = str(orjson.loads(answer).get("code", status))
            self.errors[code] = self.errors.get(code, 0) + 1
            if status != 429:
                return False
            await asyncio.sleep(1.0)  # same broadcastId: applied once
        return False

    async def burst(self, count: int, pub: dict[bytes, float]) -> int:
        next_index = 0
        ok = 0

        async def worker(client: Any) -> None:
            nonlocal next_index, ok
            while next_index < count:
                next_index += 1
                if await self._write(client, str(uuid.uuid4()), pub):
                    ok += 1

        await asyncio.gather(*(worker(c) for c in self.clients))
        return ok

    async def steady(self, count: int, rate: float, pub: dict[bytes, float]) -> int:
        start = perf_counter()
        tasks = []
        for i in range(count):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client = self.clients[i % len(self.clients)]
            tasks.append(asyncio.ensure_future(self._write(client, str(uuid.uuid4()), pub)))
        return sum(await asyncio.gather(*tasks))

    async def close(self) -> None:
        for http, _token in self.clients:
            await http.close()


class PeerPublisher:
    """One publisher connection to a peer; sends copies of a real imagechat event."""

    def __init__(self, system: str, host: str, port: int, template: dict[str, Any]) -> None:
        self.system = system
        self.host = host
        self.port = port
        self.template = template
        self.conn: Conn | None = None
        self.errors: dict[str, int] = {}
        self.offset = 0

    async def setup(self) -> None:
        loop = asyncio.get_running_loop()
        path = "/socket.io/?EIO=4&transport=websocket" if self.system == "socketio" else "/publish"
        _, conn = await loop.create_connection(
            lambda: Conn(
                Counters(), self.system, f"{self.host}:{self.port}", path, subscribe=False
            ),
            self.host,
            self.port,
        )
        await asyncio.wait_for(conn.ready, 10)
        self.conn = conn

    async def _connected(self) -> None:
        """Connect again if the server closed the publisher's connection, as a Socket.IO
        client does (python-socketio closes it under load, when its ping went unanswered in
        time behind the burst): the steady phase then measures the server, not a dead link."""
        conn = self.conn
        if conn is not None and conn.alive and not conn.transport.is_closing():
            return
        self.errors["publisher connected again"] = (
            self.errors.get("publisher connected again", 0) + 1
        )
        await self.setup()

    def _frames(self, count: int) -> list[tuple[bytes, bytes]]:
        out = []
        for _ in range(count):
            self.offset += 1
            bid = str(uuid.uuid4())
            event = dict(self.template, broadcastId=bid, offset=self.offset)
            text = orjson.dumps(event)
            if self.system == "socketio":
                text = b'42["publish",' + text + b"]"
            out.append((bid.encode(), client_frame(text)))
        return out

    def _send(self, bid: bytes, frame: bytes, pub: dict[bytes, float]) -> bool:
        """Publish one frame; False once the server has closed the publisher's connection."""
        conn = self.conn
        assert conn is not None and conn.transport is not None
        if not conn.alive or conn.transport.is_closing():
            key = f"publisher closed (code {conn.close_code})"
            self.errors[key] = self.errors.get(key, 0) + 1
            return False
        pub[bid] = perf_counter()
        conn.transport.write(frame)
        return True

    async def burst(self, count: int, pub: dict[bytes, float]) -> int:
        assert self.conn is not None
        sent = 0
        for bid, frame in self._frames(count):
            if not self._send(bid, frame, pub):
                break
            sent += 1
            await self.conn.writable()
        return sent

    async def steady(self, count: int, rate: float, pub: dict[bytes, float]) -> int:
        await self._connected()
        sent = 0
        start = perf_counter()
        for i, (bid, frame) in enumerate(self._frames(count)):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self._send(bid, frame, pub):
                break
            sent += 1
        return sent

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


# --- the run ------------------------------------------------------------------------------------


class Run:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.system: str = cfg["system"]
        self.host: str = cfg["host"]
        self.port: int = cfg["port"]
        self.server = psutil.Process(cfg["server_pid"])
        self.me = psutil.Process()
        self.counters = Counters()
        self.counters.on_finish = self._cpu_snapshot
        self.conns: list[Conn] = []
        self.closes: dict[str, int] = {}
        self.phase_planned = 0
        self.phase_active = False
        self.publisher: Any = None

    def _cpu_snapshot(self) -> tuple[float, float, list[Any]]:
        return cpu_seconds(self.server), cpu_seconds(self.me), core_times()

    @property
    def path(self) -> str:
        return "/socket.io/?EIO=4&transport=websocket" if self.system == "socketio" else "/ws"

    def _lost(self, conn: Conn) -> None:
        key = str(conn.close_code)
        self.closes[key] = self.closes.get(key, 0) + 1
        if self.phase_active:
            # It will never get the rest of this phase's events.
            self.counters.expected -= max(0, self.phase_planned - conn.events)
            self.counters.check(perf_counter())

    async def _connect_one(self, index: int, sampled: bool, sem: asyncio.Semaphore) -> Conn | str:
        loop = asyncio.get_running_loop()
        async with sem:
            try:
                _, conn = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Conn(
                            self.counters,
                            self.system,
                            f"{self.host}:{self.port}",
                            self.path,
                            sampled=sampled,
                            deflate=bool(self.cfg.get("deflate")),
                        ),
                        self.host,
                        self.port,
                        local_addr=(SOURCE_ADDRESSES[index % len(SOURCE_ADDRESSES)], 0),
                    ),
                    20,
                )
                conn.on_lost = self._lost
                await asyncio.wait_for(conn.ready, 30)
                return conn
            except Exception as error:
                return f"{type(error).__name__}: {error}"[:200]

    async def connect(self, n: int) -> tuple[list[Conn], list[str]]:
        step = max(1, n // int(self.cfg.get("sampled", 50)))
        sem = asyncio.Semaphore(int(self.cfg.get("connect_parallel", 200)))
        found = await asyncio.gather(*(self._connect_one(i, i % step == 0, sem) for i in range(n)))
        conns = [c for c in found if isinstance(c, Conn)]
        errors = [e for e in found if isinstance(e, str)]
        return conns, errors

    async def phase(
        self,
        name: str,
        count: int,
        publish: Callable[[dict[bytes, float]], Awaitable[int]],
        drain: float,
    ) -> dict[str, Any]:
        c = self.counters
        live = [conn for conn in self.conns if conn.alive]
        for conn in self.conns:
            conn.events = 0
            conn.samples = []
        c.reset(count * len(live))
        c.done = asyncio.get_running_loop().create_future()
        self.phase_planned = count
        self.phase_active = True
        pub: dict[bytes, float] = {}
        if isinstance(self.publisher, ImagechatWriters):
            self.publisher.answered = {}
        profiler = await self._start_profiler(name)
        wall0 = time.time()
        server0, me0, cores0 = self._cpu_snapshot()
        t0 = perf_counter()
        ok = await publish(pub)
        t_published = perf_counter()
        if ok < count:
            c.expected -= (count - ok) * len(live)
            self.phase_planned = ok
            c.check(perf_counter())
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(c.done), drain)
        except TimeoutError:
            timed_out = True
        self.phase_active = False
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        if c.finish_cpu is not None:
            server1, me1, cores1 = c.finish_cpu
            t_end = c.finish_t
        else:
            server1, me1, cores1 = self._cpu_snapshot()
            t_end = perf_counter()
        window = max(t_end - t0, 1e-9)
        latencies: list[float] = []
        missing = 0
        worst: dict[bytes, float] = {}  # per event, its slowest sampled delivery
        first: dict[bytes, float] = {}  # per event, its fastest sampled delivery
        sampled = [conn for conn in live if conn.sampled]
        for conn in sampled:
            seen = 0
            for t, bid in conn.samples:
                sent = pub.get(bid)
                if sent is not None:
                    latencies.append(t - sent)
                    worst[bid] = max(worst.get(bid, 0.0), t - sent)
                    first[bid] = min(first.get(bid, math.inf), t - sent)
                    seen += 1
            missing += max(0, ok - seen)
        slowest = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
        spans = sorted(worst[bid] - first[bid] for bid in worst)
        answered: dict[bytes, float] = getattr(self.publisher, "answered", {})
        writes = sorted(answered.values())
        latencies.sort()
        latencies.extend([math.inf] * missing)
        per_conn = [conn.events for conn in live]
        if profiler is not None:
            try:
                await asyncio.wait_for(asyncio.to_thread(profiler.wait), 20)
            except TimeoutError:
                profiler.kill()
        server_cpu = server1 - server0
        return {
            "phase": name,
            "planned": count,
            "published": ok,
            "subscribers": len(live),
            "expected": ok * len(live),
            "delivered": c.delivered,
            "timed_out": timed_out,
            "publish_seconds": t_published - t0,
            "window_seconds": window,
            "events_per_second": c.delivered / window,
            "frames": c.frames,
            "frames_per_event": c.frames / c.delivered if c.delivered else math.nan,
            "wire_bytes_per_event": c.wire_bytes / c.delivered if c.delivered else math.nan,
            "plain_bytes_per_event": c.plain_bytes / c.delivered if c.delivered else math.nan,
            "server_cpu_seconds": server_cpu,
            "server_cpu_us_per_delivery": server_cpu / c.delivered * 1e6
            if c.delivered
            else math.nan,
            "server_cpu_percent": 100 * server_cpu / window,
            "client_cpu_percent": 100 * (me1 - me0) / window,
            "cores": core_usage(cores0, cores1),
            "latency_samples": len(latencies),
            "latency_missing": missing,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": (latencies[-1] * 1000) if latencies else math.nan,
            "span_p50_ms": percentile(spans, 0.50) * 1000,
            "slowest_events": [
                {"published_at_s": round(pub[bid] - t0, 3), "slowest_ms": round(1000 * lat, 1)}
                for bid, lat in slowest
            ],
            # Per event, in publish order: when, the REST answer, first and last sampled
            # delivery (ms): whether a slow delivery waited for its write or for the fan-out.
            "events": [
                [
                    round(sent - t0, 3),
                    round(1000 * answered.get(bid, math.nan), 2),
                    round(1000 * first.get(bid, math.inf), 2),
                    round(1000 * worst.get(bid, math.inf), 2),
                ]
                for bid, sent in sorted(pub.items(), key=lambda kv: kv[1])
            ],
            "write_p50_ms": percentile(writes, 0.5) * 1000,
            "write_p99_ms": percentile(writes, 0.99) * 1000,
            "write_max_ms": writes[-1] * 1000 if writes else math.nan,
            "wall_start": wall0,
            "wall_end": wall0 + window,
            "per_subscriber_min": min(per_conn) if per_conn else 0,
            "per_subscriber_max": max(per_conn) if per_conn else 0,
        }

    async def settle(self, quiet: float, limit: float) -> float:
        """Wait until no event has arrived for `quiet` s, at most `limit` s; how long it took.

        A server that fell behind in the burst (python-socketio at N = 1 000) is still
        delivering its backlog when the burst's drain time ends: counted in the steady phase,
        those late events would end it early and leave its own events lost."""
        start = perf_counter()
        while (now := perf_counter()) - start < limit:
            idle = now - self.counters.last_recv
            if idle >= quiet:
                break
            await asyncio.sleep(quiet - idle)
        return perf_counter() - start

    async def _start_profiler(self, phase: str) -> subprocess.Popen[bytes] | None:
        """py-spy on the server for this phase only (--profile of fanout.py)."""
        spec = self.cfg.get("profile")
        if not spec or not os.path.exists(spec["py_spy"]):
            return None
        proc = subprocess.Popen(
            [
                spec["py_spy"],
                "record",
                "--pid",
                str(self.server.pid),
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                f"{spec['prefix']}-{phase}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)  # attached before the first write
        return proc

    async def run(self) -> dict[str, Any]:
        cfg = self.cfg
        n = int(cfg["n"])
        result: dict[str, Any] = {"system": cfg["label"], "n": n, "config": cfg}
        if self.system == "imagechat":
            publisher: Any = ImagechatWriters(self.host, self.port, cfg["writers"])
        else:
            publisher = PeerPublisher(self.system, self.host, self.port, cfg["template"])
        self.publisher = publisher
        await publisher.setup()

        warm, _ = await self.connect(1)  # first connection pays for lazy imports and caches
        for conn in warm:
            conn.close()
        await asyncio.sleep(1.0)
        rss0 = self.server.memory_info().rss
        t = perf_counter()
        self.conns, errors = await self.connect(n)
        result["connect_seconds"] = perf_counter() - t
        result["connected"] = len(self.conns)
        result["connect_errors"] = errors[:5]
        result["connect_error_count"] = len(errors)
        await asyncio.sleep(float(cfg.get("settle", 2.0)))
        rss1 = self.server.memory_info().rss
        result["rss_before"] = rss0
        result["rss_after"] = rss1
        result["idle_rss_per_connection"] = (rss1 - rss0) / max(1, len(self.conns))
        if not self.conns:
            result["error"] = "no subscriber connected: " + "; ".join(errors[:3])
            return result

        burst_count = int(cfg["burst"])
        result["burst"] = await self.phase(
            "burst",
            burst_count,
            lambda pub: publisher.burst(burst_count, pub),
            float(cfg["burst_drain"]),
        )
        result["single_event_bytes"] = self.counters.single_event_bytes
        sample = self.counters.sample_event
        result["burst"]["backlog_seconds"] = await self.settle(1.0, float(cfg["burst_drain"]))
        steady_count = int(cfg["steady_writes"])
        rate = float(cfg["rate"])
        self.counters.single_event_bytes = 0
        result["steady"] = await self.phase(
            "steady",
            steady_count,
            lambda pub: publisher.steady(steady_count, rate, pub),
            float(cfg["steady_drain"]),
        )
        if self.counters.single_event_bytes:
            result["single_event_bytes"] = self.counters.single_event_bytes
            sample = self.counters.sample_event or sample
        if sample is not None:
            result["sample_event"] = sample.decode(errors="replace")
        result["publish_errors"] = publisher.errors
        result["closes"] = self.closes
        for conn in self.conns:
            conn.close()
        await publisher.close()
        await asyncio.sleep(0.2)
        return result


async def main_async(cfg: dict[str, Any]) -> dict[str, Any]:
    run = Run(cfg)
    try:
        return await asyncio.wait_for(run.run(), float(cfg.get("deadline", 300)))
    except TimeoutError:
        return {"system": cfg["label"], "n": cfg["n"], "error": "load generator deadline passed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    raise_fd_limit()
    try:
        result = uvloop.run(main_async(cfg))
    except Exception as error:  # report, don't hang the orchestrator
        result = {"system": cfg.get("label"), "n": cfg.get("n"), "error": repr(error)[:500]}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, default=str)
    sys.exit(0)


if __name__ == "__main__":
    main()
