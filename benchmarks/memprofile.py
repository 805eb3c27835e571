"""Where an idle subscribed connection's memory goes, by allocation site.

Runs `python -m imagechat serve` (the CLI, nothing else of the server is touched) under
tracemalloc, connects N subscribers that stay idle, and prints what the server allocated for
them: the tracemalloc difference grouped by source line, per connection, next to the RSS
difference per connection.

    .venv/bin/python benchmarks/memprofile.py --n 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil
import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fanout import (  # noqa: E402
    ROOT,
    create_bench_tenant,
    free_port,
    imagechat_env,
    raise_fd_limit,
)
from loadgen import SOURCE_ADDRESSES  # noqa: E402
from wsclient import Conn, Counters  # noqa: E402

# Runs in the server process: the CLI, with tracemalloc on and SIGUSR1 dumping a snapshot.
BOOT = """
import runpy, signal, sys, tracemalloc
tracemalloc.start(int(sys.argv[1]))
prefix = sys.argv[2]
count = [0]
def dump(*_):
    count[0] += 1
    tracemalloc.take_snapshot().dump(f"{prefix}.{count[0]}")
signal.signal(signal.SIGUSR1, dump)
sys.argv = ["imagechat", *sys.argv[3:]]
runpy.run_module("imagechat", run_name="__main__", alter_sys=True)
"""


def wait_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            if size == last and size > 0:
                return
            last = size
        time.sleep(0.3)
    raise TimeoutError(f"no snapshot at {path}")


async def connect(port: int, n: int) -> list[Conn]:
    loop = asyncio.get_running_loop()
    counters = Counters()
    sem = asyncio.Semaphore(100)

    async def one(i: int) -> Conn:
        async with sem:
            _, conn = await loop.create_connection(
                lambda: Conn(counters, "imagechat", f"127.0.0.1:{port}", "/ws"),
                "127.0.0.1",
                port,
                local_addr=(SOURCE_ADDRESSES[i % len(SOURCE_ADDRESSES)], 0),
            )
            await asyncio.wait_for(conn.ready, 30)
            return conn

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=12, help="traceback depth kept")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="imagechat-mem-"))
    url = f"sqlite+aiosqlite:///{tmp}/mem.db"
    env = imagechat_env()
    create_bench_tenant(url, env)
    port = free_port()
    prefix = str(tmp / "snap")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            BOOT,
            str(args.frames),
            prefix,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            url,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.3)
        proc = psutil.Process(server.pid)

        async def run() -> tuple[int, int]:
            warm = await connect(port, 1)  # pays for lazy imports and caches
            for conn in warm:
                conn.close()
            await asyncio.sleep(1.5)
            rss0 = proc.memory_info().rss
            os.kill(server.pid, signal.SIGUSR1)
            await asyncio.to_thread(wait_file, Path(f"{prefix}.1"))
            conns = await connect(port, args.n)
            await asyncio.sleep(2.5)
            rss1 = proc.memory_info().rss
            os.kill(server.pid, signal.SIGUSR1)
            await asyncio.to_thread(wait_file, Path(f"{prefix}.2"))
            for conn in conns:
                conn.close()
            return rss0, rss1

        rss0, rss1 = uvloop.run(run())
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    before = tracemalloc.Snapshot.load(f"{prefix}.1")
    after = tracemalloc.Snapshot.load(f"{prefix}.2")
    noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(noise), after.filter_traces(noise)
    n = args.n
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(
        f"N = {n}: traced Python allocations +{total / n / 1024:.1f} KB per connection; "
        f"RSS +{(rss1 - rss0) / n / 1024:.1f} KB per connection (inflated here by tracemalloc's "
        f"own bookkeeping: compare with fanout.py's idle RSS)"
    )
    print("\nby file (bytes per connection, allocations per connection):")
    for stat in after.compare_to(before, "filename")[: args.top]:
        if stat.size_diff <= 0:
            continue
        name = stat.traceback[0].filename.split("site-packages/")[-1].split("/src/")[-1]
        print(f"{stat.size_diff / n:9.0f} B  {stat.count_diff / n:6.1f}  {name}")
    print("\nby line:")
    for stat in after.compare_to(before, "lineno")[: args.top]:
        if stat.size_diff <= 0:
            continue
        frame = stat.traceback[0]
        name = frame.filename.split("site-packages/")[-1].split("/src/")[-1]
        print(f"{stat.size_diff / n:9.0f} B  {stat.count_diff / n:6.1f}  {name}:{frame.lineno}")


if __name__ == "__main__":
    main()
