"""Write-path benchmark: how fast `POST /chats` answers, against the bare driver floor.

For SQLite and PostgreSQL it measures, in one run:

- **floor**: the same transaction as a `POST /chats` (idempotency check, head bump, chat,
  comment, event, idempotency record, usage), issued straight through the driver (sqlite3,
  asyncpg) with no HTTP and no imagechat code: latency at 10/s, and throughput with 16
  concurrent writers (16 connections on PostgreSQL; SQLite takes one writer at a time);
- **REST**: `imagechat serve` pinned to core 0, the load generator to core 1, a lean
  keep-alive HTTP/1.1 client: answer latency at 10 writes/s (open loop), and throughput with
  16 concurrent writers (closed loop), with no subscribers;
- **hot row** (PostgreSQL): 16 writers on 16 images of one tenant, counting conversations on
  one usage row per tenant and day (the old way) against one row per image and day.

Every run is bounded in count and time and only talks to 127.0.0.0/8.

    .venv/bin/python benchmarks/writes.py                    # both backends, ~2 min
    .venv/bin/python benchmarks/writes.py --only sqlite --seconds 5
    .venv/bin/python benchmarks/writes.py --write-readme     # also rewrite README.md's table
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from httpclient import Http

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START = "<!-- writes-results:start -->"
END = "<!-- writes-results:end -->"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "imagechat_bench_writes"
WRITERS = 16
RATE = 10.0
COMMENT = "A comment of a typical length, long enough to look like what people write " + "x" * 66
PER_IMAGE = 400  # creates per image before moving on: an image holds at most 500 chats


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if os.cpu_count() and os.cpu_count() > 1 else []  # type: ignore[operator]


# --- databases --------------------------------------------------------------------------------


async def fresh_postgres() -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {PG_DB}")
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "imagechat", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    return done.stdout


def prepare(url: str, env: dict[str, str]) -> None:
    cli("migrate", "--database-url", url, env=env)
    cli("tenant", "create", "bench", "--database-url", url, env=env)


# --- the floor: the same transaction through the bare driver ------------------------------------

_NOW = "2026-12-01 12:00:00.000000"
FLOOR_SQL = [
    "SELECT operation, actor_id, status_code, response FROM idempotency_keys"
    " WHERE tenant_id = ? AND broadcast_id = ?",
    "UPDATE channels SET top_offset = top_offset + 1, chat_count = chat_count + 1"
    " WHERE tenant_id = ? AND url_id = ? RETURNING id, epoch, top_offset, history_floor",
    "INSERT INTO chats (id, tenant_id, url_id, x, y, resolved, comment_count, author_id,"
    " page_url, image_src, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, 1, ?, NULL, NULL, ?, ?, 1)",
    "INSERT INTO comments (id, chat_id, tenant_id, author_id, body, created_at, edited_at)"
    " VALUES (?, ?, ?, ?, ?, ?, NULL)",
    'INSERT INTO events (channel_id, "offset", epoch, type, broadcast_id, chat_id, comment_id,'
    " payload, created_at) VALUES (?, ?, ?, 'new-image-chat', ?, ?, ?, ?, ?)",
    "INSERT INTO idempotency_keys (tenant_id, broadcast_id, operation, actor_id, status_code,"
    " response, created_at) VALUES (?, ?, 'create_chat', ?, 201, ?, ?)",
]
USAGE_PER_IMAGE = (
    "INSERT INTO channel_usage_daily (channel_id, day, tenant_id, conversations_created,"
    " comments_created) VALUES (?, ?, ?, 1, 1) ON CONFLICT (channel_id, day) DO UPDATE SET"
    " conversations_created = channel_usage_daily.conversations_created + 1,"
    " comments_created = channel_usage_daily.comments_created + 1"
)
USAGE_PER_TENANT = (
    "INSERT INTO usage_daily (tenant_id, day, conversations_created, comments_created,"
    " pubsub_message_count, pubsub_bandwidth, peak_connections) VALUES (?, ?, 1, 1, 0, 0, 0)"
    " ON CONFLICT (tenant_id, day) DO UPDATE SET"
    " conversations_created = usage_daily.conversations_created + 1,"
    " comments_created = usage_daily.comments_created + 1"
)
PAYLOAD = b"x" * 700
ANSWER = b"y" * 650


def numbered(sql: str) -> str:
    count = iter(range(1, 100))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


class SqliteFloor:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("INSERT INTO users VALUES ('bench', 'u', 'U', NULL, 'guest', ?)", (_NOW,))

    def image(self, name: str) -> None:
        self.db.execute(
            "INSERT INTO channels (tenant_id, url_id, epoch, top_offset, history_floor,"
            " chat_count) VALUES ('bench', ?, 'e', 0, 0, 0) ON CONFLICT DO NOTHING",
            (name,),
        )

    def write(self, image: str) -> None:
        db, bid = self.db, str(uuid.uuid4())
        chat, comment = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
        db.execute("BEGIN IMMEDIATE")
        db.execute(FLOOR_SQL[0], ("bench", bid)).fetchall()
        head = db.execute(FLOOR_SQL[1], ("bench", image)).fetchall()[0]
        db.execute(FLOOR_SQL[2], (chat, "bench", image, 1.0, 2.0, 0, "u", _NOW, _NOW))
        db.execute(FLOOR_SQL[3], (comment, chat, "bench", "u", COMMENT, _NOW))
        db.execute(FLOOR_SQL[4], (head[0], head[2], head[1], bid, chat, comment, PAYLOAD, _NOW))
        db.execute(FLOOR_SQL[5], ("bench", bid, "u", ANSWER, _NOW))
        db.execute(USAGE_PER_IMAGE, (head[0], "2026-12-01", "bench"))
        db.execute("COMMIT")


class PostgresFloor:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None
        self.now = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
        self.day = dt.date(2026, 12, 1)

    async def open(self, size: int) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=size, max_size=size)
        await self.pool.execute(
            "INSERT INTO users VALUES ('bench', 'u', 'U', NULL, 'guest', $1)"
            " ON CONFLICT DO NOTHING",
            self.now,
        )

    async def image(self, name: str) -> None:
        await self.pool.execute(
            "INSERT INTO channels (tenant_id, url_id, epoch, top_offset, history_floor,"
            " chat_count) VALUES ('bench', $1, 'e', 0, 0, 0) ON CONFLICT DO NOTHING",
            name,
        )

    async def write(self, image: str, usage: str = USAGE_PER_IMAGE) -> None:
        bid = str(uuid.uuid4())
        chat, comment = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
        now = self.now
        async with self.pool.acquire() as db, db.transaction():
            await db.fetch(numbered(FLOOR_SQL[0]), "bench", bid)
            head = await db.fetchrow(numbered(FLOOR_SQL[1]), "bench", image)
            await db.execute(
                numbered(FLOOR_SQL[2]), chat, "bench", image, 1.0, 2.0, False, "u", now, now
            )
            await db.execute(numbered(FLOOR_SQL[3]), comment, chat, "bench", "u", COMMENT, now)
            await db.execute(
                numbered(FLOOR_SQL[4]),
                head["id"],
                head["top_offset"],
                head["epoch"],
                bid,
                chat,
                comment,
                PAYLOAD,
                now,
            )
            await db.execute(numbered(FLOOR_SQL[5]), "bench", bid, "u", ANSWER, now)
            if usage is USAGE_PER_IMAGE:
                await db.execute(numbered(usage), head["id"], self.day, "bench")
            else:
                await db.execute(numbered(usage), "bench", self.day)

    async def close(self) -> None:
        await self.pool.close()


# --- measuring loops ------------------------------------------------------------------------------


async def steady(write: Callable[[int], Awaitable[None]], seconds: float) -> list[float]:
    """Writes issued on schedule at RATE/s (open loop); each one's latency in ms."""
    latencies: list[float] = []
    tasks = []
    start = time.perf_counter()

    async def one(n: int) -> None:
        began = time.perf_counter()
        await write(n)
        latencies.append((time.perf_counter() - began) * 1000)

    for n in range(int(seconds * RATE)):
        await asyncio.sleep(max(0.0, start + n / RATE - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return latencies


async def flat_out(
    writers: int, write: Callable[[int, int], Awaitable[None]], seconds: float
) -> float:
    """Writes per second with `writers` writers each writing as fast as answers come."""
    deadline = time.perf_counter() + seconds
    done = [0] * writers

    async def writer(w: int) -> None:
        while time.perf_counter() < deadline:
            await write(w, done[w])
            done[w] += 1

    start = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return sum(done) / (time.perf_counter() - start)


def chat_body(image: str) -> dict[str, Any]:
    return {
        "urlId": image,
        "x": 12.5,
        "y": 80,
        "comment": COMMENT,
        "broadcastId": str(uuid.uuid4()),
    }


async def rest_phase(port: int, seconds: float) -> dict[str, Any]:
    connections = [Http(port) for _ in range(WRITERS)]
    tokens = []
    for n, conn in enumerate(connections):
        status, body = await conn.request(
            "POST", "/api/v1/bench/sessions", {"guest": {"name": f"Writer {n}"}}
        )
        assert status == 200, body
        tokens.append(json.loads(body)["token"])

    idle: asyncio.Queue[int] = asyncio.Queue()
    for w in range(WRITERS):
        idle.put_nowait(w)

    async def write_as(w: int, n: int, prefix: str) -> None:
        image = f"{prefix}-{w}-{n // PER_IMAGE}"
        status, body = await connections[w].request(
            "POST", "/api/v1/bench/chats", chat_body(image), tokens[w]
        )
        assert status == 201, (status, body[:300])

    async def on_any_connection(n: int) -> None:
        w = await idle.get()  # one request at a time per connection, like a browser's
        try:
            await write_as(w, n, "steady")
        finally:
            idle.put_nowait(w)

    for w in range(WRITERS):  # warm up every connection and the server's caches
        for n in range(20):
            await write_as(w, n, "warm")
    latencies = await steady(on_any_connection, seconds)
    rate = await flat_out(WRITERS, lambda w, n: write_as(w, n, "flat"), seconds)
    for conn in connections:
        await conn.close()
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "rate": rate}


class Server:
    def __init__(self, url: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                *pinned(0),
                sys.executable,
                "-m",
                "imagechat",
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                url,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError(f"server did not start: {log.read_text()[-1500:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# --- one backend ------------------------------------------------------------------------------


async def backend_run(backend: str, seconds: float, tmp: Path) -> dict[str, Any]:
    env = dict(os.environ, IMAGECHAT_WRITE_RATE="0")
    env.pop("IMAGECHAT_DATABASE_URL", None)
    result: dict[str, Any] = {"backend": backend}
    images = [f"floor-{w}-{k}" for w in range(WRITERS) for k in range(40)]

    if backend == "sqlite":
        floor_path = tmp / "floor.db"
        prepare(f"sqlite+aiosqlite:///{floor_path}", env)
        floor = SqliteFloor(str(floor_path))
        for image in images:
            floor.image(image)

        async def floor_one(n: int) -> None:
            floor.write(images[n % WRITERS])

        async def floor_flat(w: int, n: int) -> None:
            floor.write(images[w * 40 + n // PER_IMAGE])

        floor_writers = 1
        url = f"sqlite+aiosqlite:///{tmp / 'rest.db'}"
    else:
        url = await fresh_postgres()
        prepare(url, env)
        dsn = url.replace("postgresql+asyncpg", "postgresql")
        pg = PostgresFloor(dsn)
        await pg.open(WRITERS)
        for image in images:
            await pg.image(image)

        async def floor_one(n: int) -> None:
            await pg.write(images[n % WRITERS])

        async def floor_flat(w: int, n: int) -> None:
            await pg.write(images[w * 40 + n // PER_IMAGE])

        floor_writers = WRITERS

    latencies = await steady(floor_one, seconds)
    result["floor"] = {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "rate": await flat_out(floor_writers, floor_flat, seconds),
        "writers": floor_writers,
    }
    if backend == "postgresql":
        hot_images = [f"hot-{w}" for w in range(WRITERS)]
        for image in hot_images:
            await pg.image(image)
        per_tenant = await flat_out(
            WRITERS, lambda w, n: pg.write(hot_images[w], USAGE_PER_TENANT), seconds
        )
        per_image = await flat_out(
            WRITERS, lambda w, n: pg.write(hot_images[w], USAGE_PER_IMAGE), seconds
        )
        result["hot_row"] = {"per_tenant": per_tenant, "per_image": per_image}
        await pg.close()
        url = await fresh_postgres()
        prepare(url, env)
    else:
        prepare(url, env)

    server = Server(url, env, tmp / f"server-{backend}.log")
    try:
        result["rest"] = await rest_phase(server.port, seconds)
    finally:
        server.stop()
    return result


def markdown(results: list[dict[str, Any]], meta: str) -> str:
    lines = [
        meta,
        "",
        "| backend | REST p50 ms | REST p99 ms | floor p50 ms | p50 ratio"
        " | REST writes/s (16 writers) | floor writes/s | throughput ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rest, floor = r["rest"], r["floor"]
        lines.append(
            f"| {r['backend']} | {rest['p50']:.2f} | {rest['p99']:.2f} | {floor['p50']:.2f} | "
            f"{rest['p50'] / floor['p50']:.1f} × | {rest['rate']:.0f} | {floor['rate']:.0f} "
            f"({floor['writers']} writer{'s' if floor['writers'] > 1 else ''}) | "
            f"{floor['rate'] / rest['rate']:.1f} × |"
        )
    for r in results:
        if "hot_row" in r:
            hot = r["hot_row"]
            lines += [
                "",
                "Usage counters, 16 writers on 16 images of one tenant, bare driver (PostgreSQL):",
                "",
                "| conversations counted on | writes/s |",
                "|---|---|",
                f"| one row per tenant and day (before) | {hot['per_tenant']:.0f} |",
                f"| one row per image and day (now) | {hot['per_image']:.0f} |",
            ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        os.sched_setaffinity(0, {1})  # the load generator on core 1, the server on core 0
    backends = [args.only] if args.only else ["sqlite", "postgresql"]
    load_before = os.getloadavg()[0]
    started = time.time()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            results.append(asyncio.run(backend_run(backend, args.seconds, Path(tmp))))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    meta = (
        f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on commit `{commit}`; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
        f"server on core 0, load generator on core 1; {args.seconds:.0f} s per phase; load "
        f"average before/after {load_before:.2f} / {os.getloadavg()[0]:.2f}; took "
        f"{time.time() - started:.0f} s."
    )
    table = markdown(results, meta)
    print(table)
    print(json.dumps(results, indent=2))
    if args.write_readme:
        text = README.read_text()
        block = f"{START}\n{table}\n{END}"
        if START in text:
            text = re.sub(
                re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S
            )
        else:
            text += f"\n{block}\n"
        README.write_text(text)


if __name__ == "__main__":
    main()
