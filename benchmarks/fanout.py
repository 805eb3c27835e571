"""Fan-out benchmark: one image channel, N subscribers, imagechat against two peers.

For each N and each system it starts the server pinned to core 0 and the load generator
(benchmarks/loadgen.py) pinned to core 1, then measures, on the wire:

- a burst of writes (as fast as the writers go), then a steady 10 writes/s;
- delivered events/s, frames per event, bytes per event, publish -> receive p50/p99,
  server CPU µs per delivery (psutil, user + system), idle RSS per subscribed connection.

Systems: imagechat (its CLI, REST writes through imagechat.client.ImageChatClient, WebSocket
subscribers speaking PROTOCOL.md), a python-socketio room (benchmarks/peers/socketio_server.py)
and a bare `websockets.broadcast()` loop (benchmarks/peers/websockets_server.py). Every run is
bounded in count and time and only talks to 127.0.0.0/8.

    .venv/bin/python benchmarks/fanout.py                 # N = 100, 1000, 5000 (~10-15 min)
    .venv/bin/python benchmarks/fanout.py --quick         # smoke run, N = 100, < 60 s
    .venv/bin/python benchmarks/fanout.py --n 1000 --only imagechat
    .venv/bin/python benchmarks/fanout.py --write-readme  # also rewrite README.md's results
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START = "<!-- fanout-results:start -->"
END = "<!-- fanout-results:end -->"
SYSTEMS = ("imagechat", "socketio", "websockets", "sendloop")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "imagechat_bench"
SECRET = "bench-secret-" + "x" * 24
# Knobs the benchmark sets unless the environment already does: every writer comes from
# 127.0.0.1, so the per-address write limit would throttle the burst, not the fan-out.
BENCH_KNOBS = {"IMAGECHAT_WRITE_RATE": "0"}

# Measured earlier on this 2-core machine (N = 1000, burst), kept for comparison.
REFERENCE = {
    "socketio": {"events_per_second": 17_000, "cpu_us": 58, "p99_ms": 172},
    "websockets": {"events_per_second": 118_000, "cpu_us": 8, "p99_ms": 15},
}
# The transport's targets: compression shared by every connection, lighter connections.
TRANSPORT_TARGETS = {
    "deflate_event_bytes": 450,  # a new-image-chat (140-character comment), deflate offered
    "deflate_cpu_ratio": 1.2,  # server CPU per delivery, deflate-offering vs plain clients
    "burst_vs_websockets": 1.5,
    "rss_vs_websockets": 1.0,
    "steady_p99_ms": 15.0,
}
TARGETS = {
    "ratio_vs_socketio": 8.0,
    "steady_p99_ms": 20.0,
    "idle_rss_bytes": 20 * 1024,
    "event_bytes": 600,
}

LABELS = {
    ("imagechat", "sqlite", False): "imagechat (SQLite)",
    ("imagechat", "postgres", False): "imagechat (PostgreSQL)",
    ("imagechat", "sqlite", True): "imagechat (SQLite, deflate)",
    ("imagechat", "postgres", True): "imagechat (PostgreSQL, deflate)",
    ("socketio", None, False): "python-socketio",
    ("websockets", None, False): "websockets.broadcast",
    ("sendloop", None, False): "send loop (floor)",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_quiet(limit: float, busy: float = 25.0) -> float:
    """Wait (up to `limit` s) until no core is busier than `busy` %; other work on this
    machine would otherwise take the pinned cores' time. Returns the busiest core's %."""
    import psutil

    deadline = time.monotonic() + limit
    while True:
        worst = max(psutil.cpu_percent(interval=0.5, percpu=True))
        if worst <= busy or time.monotonic() >= deadline:
            return float(worst)


def foreign_load(result: dict[str, Any]) -> float:
    """% of the busier pinned core taken by other processes during the burst."""
    burst = result.get("burst") or {}
    cores = burst.get("cores") or []
    if len(cores) < 2:
        return math.nan
    ours = (burst["server_cpu_percent"], burst["client_cpu_percent"])
    return max(
        max(0.0, core["busy"] - core["softirq"] - own)
        for core, own in zip(cores, ours, strict=False)
    )


def stolen(phase: dict[str, Any]) -> float:
    """% of the more robbed pinned core's time the hypervisor ran something else."""
    shares = [core.get("steal", math.nan) for core in phase.get("cores") or []]
    return max(shares) if shares else math.nan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Pinning:
    """`nice -n NICE taskset -c CORE` prefixes: pinned when there is a taskset and two cores;
    a negative nice (root only) keeps other work on this machine from taking the pinned cores."""

    def __init__(self, enabled: bool, nice: int) -> None:
        self.enabled = (
            enabled and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
        )
        self.nice = nice if (nice >= 0 or os.geteuid() == 0) else 0

    def prefix(self, core: int) -> list[str]:
        niced = ["nice", "-n", str(self.nice)] if self.nice else []
        return niced + (["taskset", "-c", str(core)] if self.enabled else [])


# --- servers ----------------------------------------------------------------------------------


class Server:
    def __init__(self, cmd: list[str], env: dict[str, str], logfile: Path) -> None:
        self.logfile = logfile
        self._log = logfile.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, port: int, http_path: str | None, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if http_path is None:
                        return
                    s.sendall(
                        f"GET {http_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                    )
                    if b" 200 " in s.recv(256):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self, chars: int = 1500) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:5])}... failed: {done.stderr[-1500:]}")
    return done.stdout


def create_bench_tenant(url: str, env: dict[str, str]) -> None:
    """Tenant `bench` with the known secret, through the CLI as an operator would."""
    command = ["-m", "imagechat", "tenant", "create", "bench", "--secret", SECRET]
    run([sys.executable, *command, "--database-url", url], env)


def postgres_available() -> bool:
    async def probe() -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(PG_ADMIN, timeout=3)
        except Exception:
            return False
        await conn.close()
        return True

    try:
        return asyncio.run(probe())
    except Exception:
        return False


def fresh_postgres_database() -> str:
    async def recreate() -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN, timeout=5)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {PG_DB}")
        finally:
            await conn.close()

    asyncio.run(recreate())
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"


def imagechat_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("IMAGECHAT_DATABASE_URL", "IMAGECHAT_HOST", "IMAGECHAT_PORT", "IMAGECHAT_DEMO"):
        env.pop(name, None)
    for name, value in BENCH_KNOBS.items():
        env.setdefault(name, value)
    return env


def start_imagechat(
    tmp: Path, pin: Pinning, db: str, compression: bool, tag: str, gc_log: str | None = None
) -> tuple[Server, int, str]:
    python = sys.executable
    env = imagechat_env()
    if db == "postgres":
        url = fresh_postgres_database()
        run([python, "-m", "imagechat", "migrate", "--database-url", url], env)
    else:
        path = tmp / f"{tag}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    create_bench_tenant(url, env)
    port = free_port()
    launcher = [python, str(HERE / "gcboot.py"), gc_log] if gc_log else [python, "-m", "imagechat"]
    cmd = [
        *pin.prefix(0),
        *launcher,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        url,
        "--log-level",
        "warning",
    ]
    if compression:
        cmd.append("--ws-compression")
    server = Server(cmd, env, tmp / f"{tag}.log")
    try:
        server.wait_ready(port, "/healthz")
    except Exception:
        server.stop()
        raise
    return server, port, url


def start_peer(tmp: Path, pin: Pinning, system: str, tag: str) -> tuple[Server, int]:
    script = HERE / "peers" / f"{system}_server.py"
    port = free_port()
    cmd = [*pin.prefix(0), sys.executable, str(script), "--port", str(port)]
    server = Server(cmd, dict(os.environ), tmp / f"{tag}.log")
    try:
        server.wait_ready(port, None)
    except Exception:
        server.stop()
        raise
    return server, port


# --- the event the peers send -------------------------------------------------------------------


def built_template() -> dict[str, Any]:
    """A `new-image-chat` event as imagechat builds it, for runs where imagechat did not run."""
    now = dt.datetime.now(dt.UTC)
    try:
        from imagechat.domain import events
        from imagechat.domain.models import Chat, Comment, User

        user = User(uuid.uuid4().hex[:20], "Writer 1", None, "guest")
        chat = Chat(uuid.uuid4().hex[:20], "img", 42.5, 17.25, 1, False, user, now, now, 1)
        comment = Comment(uuid.uuid4().hex[:20], chat.id, COMMENT, user, now, None)
        return events.new_chat("bench", "img", 1, str(uuid.uuid4()), chat, comment)
    except Exception:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        user = {"id": uuid.uuid4().hex[:20], "name": "Writer 1", "avatarUrl": None, "role": "guest"}
        chat_id = uuid.uuid4().hex[:20]
        return {
            "type": "new-image-chat",
            "tenantId": "bench",
            "urlId": "img",
            "offset": 1,
            "broadcastId": str(uuid.uuid4()),
            "chat": {
                "id": chat_id,
                "urlId": "img",
                "x": 42.5,
                "y": 17.25,
                "commentCount": 1,
                "resolved": False,
                "author": user,
                "createdAt": stamp,
                "updatedAt": stamp,
                "version": 1,
            },
            "comment": {
                "id": uuid.uuid4().hex[:20],
                "chatId": chat_id,
                "body": COMMENT,
                "author": user,
                "createdAt": stamp,
                "editedAt": None,
            },
        }


def template_from_wire(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if isinstance(found, list) and found:
        found = found[0]
    if isinstance(found, dict) and found.get("type") == "new-image-chat":
        return found
    return None


sys.path.insert(0, str(HERE))
from loadgen import COMMENT  # noqa: E402

# --- one measured run ---------------------------------------------------------------------------


def plan(n: int, args: argparse.Namespace) -> dict[str, Any]:
    steady_seconds = args.steady_seconds or (3.0 if args.quick else 10.0)
    steady_writes = max(1, round(steady_seconds * args.rate))
    # The warm-up write, the burst and the steady writes all create a conversation on the one
    # image; past the cap imagechat refuses them (422), so the burst gets what is left.
    from imagechat.domain.limits import MAX_CHATS_PER_IMAGE

    room = MAX_CHATS_PER_IMAGE - 1 - steady_writes
    if args.burst:
        burst = args.burst
    elif args.quick:
        burst = 200
    else:
        burst = max(60, min(1000, round(300_000 / n)))
    if burst > room:
        if args.burst:
            log(f"--burst {burst} is more than one image holds: {room} writes")
        burst = room
    return {
        "n": n,
        "burst": burst,
        "rate": args.rate,
        "steady_writes": steady_writes,
        "burst_drain": 10.0 if args.quick else 40.0,
        "steady_drain": 5.0,
        "writers": args.writers,
        "sampled": 50,
        "settle": 1.5 if args.quick else 2.0,
        "connect_parallel": 200,
        "deadline": 60 if args.quick else 240,
    }


def add_gc_pauses(result: dict[str, Any], path: Path) -> None:
    """Attach the server's garbage collections (gcboot.py) to the phases they fell in."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    result["gc"] = found["generations"]
    for name in ("burst", "steady"):
        phase = result.get(name)
        if not phase:
            continue
        inside = [
            p for p in found["long_pauses"] if phase["wall_start"] <= p[0] <= phase["wall_end"] + 1
        ]
        phase["gc_pauses_over_5ms"] = len(inside)
        phase["gc_longest_ms"] = round(1000 * max((p[2] for p in inside), default=0.0), 1)
        phase["gc_pauses"] = [
            {
                "at_s": round(p[0] - phase["wall_start"], 3),
                "generation": p[1],
                "ms": round(1000 * p[2], 1),
            }
            for p in inside[:20]
        ]


def py_spy() -> str:
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


FRAME = re.compile(r"^(.*) \((?:.*/)?([^/:]+)(?::\d+)?\)$")  # "fn (/a/b/c.py:12)" -> "fn (c.py)"


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares of the busiest functions in py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [FRAME.sub(r"\1 (\2)", f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            incl[frame] = incl.get(frame, 0) + n

    def share(d: dict[str, int]) -> list[tuple[str, float]]:
        return [
            (k, round(100 * v / total, 1))
            for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]
        ]

    return {"samples": total, "self": share(own), "inclusive": share(incl), "file": str(path)}


def run_loadgen(cfg: dict[str, Any], tmp: Path, pin: Pinning, tag: str) -> dict[str, Any]:
    config = tmp / f"{tag}.json"
    out = tmp / f"{tag}.result.json"
    config.write_text(json.dumps(cfg))
    cmd = [
        *pin.prefix(1),
        sys.executable,
        str(HERE / "loadgen.py"),
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=cfg["deadline"] + 30, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": "load generator did not stop in time"}
    if not out.exists():
        return {"error": f"load generator failed: {done.stderr[-1500:]}"}
    result: dict[str, Any] = json.loads(out.read_text())
    if done.returncode != 0 or done.stderr.strip():
        result.setdefault("stderr", done.stderr[-1000:])
    return result


def measure(
    system: str,
    db: str | None,
    compression: bool,
    n: int,
    args: argparse.Namespace,
    tmp: Path,
    pin: Pinning,
    template: dict[str, Any] | None,
) -> dict[str, Any]:
    label = LABELS[(system, db, compression)]
    tag = f"{system}-{db or 'peer'}-{'z' if compression else 'p'}-{n}"
    cfg = plan(n, args)
    cfg.update(system=system, label=label, host="127.0.0.1", deflate=compression)
    code = code_version()
    quiet = wait_quiet(args.quiet_wait)
    log(f"{label}, N = {n}: starting (busiest core {quiet:.0f} %)")
    started = time.monotonic()
    try:
        if system == "imagechat":
            gc_log = str(tmp / f"{tag}.gc.json") if args.gc_log else None
            server, port, _ = start_imagechat(tmp, pin, db or "sqlite", compression, tag, gc_log)
        else:
            server, port = start_peer(tmp, pin, system, tag)
    except Exception as error:
        return {
            "system": label,
            "n": n,
            "kind": system,
            "db": db,
            "deflate": compression,
            "error": f"server did not start: {error}"[:1500],
        }
    if args.profile and system == "imagechat":
        cfg["profile"] = {"py_spy": py_spy(), "prefix": str(Path(args.profile).resolve() / tag)}
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    try:
        cfg.update(
            port=port,
            server_pid=server.proc.pid,
            template=template if system != "imagechat" else None,
        )
        result = run_loadgen(cfg, tmp, pin, tag)
    finally:
        server.stop()
    if system == "imagechat" and args.gc_log:
        add_gc_pauses(result, tmp / f"{tag}.gc.json")
    if cfg.get("profile"):
        for phase in ("burst", "steady"):
            if phase in result:
                result[phase]["profile"] = summarize_profile(
                    Path(f"{cfg['profile']['prefix']}-{phase}.txt")
                )
    if "error" in result and server.tail():
        result["server_log"] = server.tail(800)
    result.update(
        code=code,
        system=label,
        n=n,
        kind=system,
        db=db,
        deflate=compression,
        seconds=time.monotonic() - started,
    )
    result.pop("config", None)
    log(f"{label}, N = {n}: {summary(result)} ({result['seconds']:.0f} s)")
    return result


def medians(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per (system, N): the run with the median burst rate, with every rate kept."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r.get("system"), r.get("n")), []).append(r)
    out = []
    for runs in groups.values():
        good = [r for r in runs if "error" not in r]
        if not good:
            out.append(runs[0])
            continue
        good.sort(key=lambda r: r["burst"]["events_per_second"])
        chosen = dict(good[(len(good) - 1) // 2])
        chosen["repeats"] = [r["burst"]["events_per_second"] for r in good]
        chosen["steady_p99s"] = [r["steady"]["p99_ms"] for r in good]
        chosen["repeat_results"] = len(runs)
        out.append(chosen)
    return out


def summary(r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR " + str(r["error"])[:300]
    b, s = r.get("burst", {}), r.get("steady", {})
    return (
        f"burst {b.get('events_per_second', 0):,.0f} ev/s, "
        f"{b.get('server_cpu_us_per_delivery', 0):.1f} µs/deliv, "
        f"steady p50/p99 {s.get('p50_ms', math.nan):.1f}/{s.get('p99_ms', math.nan):.1f} ms, "
        f"idle {r.get('idle_rss_per_connection', 0) / 1024:.1f} KB/conn"
    )


# --- reporting ----------------------------------------------------------------------------------


def fmt_ms(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "lost"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    return f"{value:,.{digits}f}"


def fmt_k(value: float) -> str:
    return f"{value / 1000:.1f} k" if value < 100_000 else f"{value / 1000:.0f} k"


def delivered_note(phase: dict[str, Any]) -> str:
    if not phase:
        return "–"
    if phase["expected"] == 0:
        return "0"
    share = phase["delivered"] / phase["expected"]
    return "100 %" if share >= 0.99995 else f"{100 * share:.1f} %"


def spread(r: dict[str, Any]) -> str:
    """ " (min–max of K runs)" when the run was repeated; the table shows the median run."""
    rates = r.get("repeats") or []
    if len(rates) < 2:
        return ""
    return f" ({min(rates) / 1000:.0f}–{max(rates) / 1000:.0f} k, {len(rates)} runs)"


def p99_spread(r: dict[str, Any]) -> str:
    """The steady p99 of the row's run, with " (min–max)" of the repeated runs."""
    values = r.get("steady_p99s") or []
    text = fmt_ms(r["steady"]["p99_ms"])
    if len(values) < 2:
        return text
    return f"{text} ({fmt_ms(min(values))}–{fmt_ms(max(values))})"


def row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def header(*names: str, numeric: bool = True) -> list[str]:
    return [row(*names), "|---|" + ("---:|" if numeric else "---|") * (len(names) - 1)]


def tables(results: list[dict[str, Any]]) -> str:
    lines = [
        "Burst (writes as fast as the writers go). Delivered events/s counts one event reaching "
        "one subscriber; the window runs from the first publish to the last delivery. With "
        "--repeat, each row is the run with the median burst rate (range in brackets).",
        "",
        *header(
            "system",
            "N",
            "events",
            "delivered events/s",
            "frames/event",
            "bytes/event",
            "server CPU µs/delivery",
            "p50 / p99 ms",
            "delivered",
            "server CPU",
            "load-gen CPU",
            "other load",
            "idle RSS/conn",
        ),
    ]
    for r in results:
        if "error" in r:
            lines.append(row(r["system"], r["n"], f"error: {str(r['error'])[:120]}", *[""] * 10))
            continue
        b = r["burst"]
        lines.append(
            row(
                r["system"],
                f"{r['n']:,}",
                f"{b['published']:,}",
                fmt_num(b["events_per_second"], 0) + spread(r),
                fmt_num(b["frames_per_event"], 3),
                fmt_num(b["wire_bytes_per_event"], 0),
                fmt_num(b["server_cpu_us_per_delivery"]),
                f"{fmt_ms(b['p50_ms'])} / {fmt_ms(b['p99_ms'])}",
                delivered_note(b),
                f"{b['server_cpu_percent']:.0f} %",
                f"{b['client_cpu_percent']:.0f} %",
                f"{fmt_num(foreign_load(r), 0)} %",
                f"{r['idle_rss_per_connection'] / 1024:.1f} KB",
            )
        )
    lines += [
        "",
        "Steady 10 writes/s. Publish → receive over the sampled subscribers (up to 50, spread "
        "over the fan-out order); an event not delivered within the drain time counts as lost; "
        "with --repeat, the range of the runs' p99 in brackets. Spread is, per event, its last "
        "sampled delivery minus its first (the median over the events): how long one fan-out "
        "took to reach the sampled subscribers. REST write is the time imagechat took to answer "
        "the write. Stolen is the larger share of a pinned core's time the hypervisor gave to "
        "other machines during the phase.",
        "",
        *header(
            "system",
            "N",
            "events",
            "p50 ms",
            "p99 ms",
            "max ms",
            "spread ms",
            "frames/event",
            "bytes/event",
            "server CPU µs/delivery",
            "delivered",
            "server CPU",
            "stolen",
            "REST write p50 / p99 ms",
        ),
    ]
    for r in results:
        if "error" in r:
            continue
        s = r["steady"]
        writes = (
            f"{fmt_ms(s.get('write_p50_ms'))} / {fmt_ms(s.get('write_p99_ms'))}"
            if r.get("kind") == "imagechat"
            else "–"
        )
        lines.append(
            row(
                r["system"],
                f"{r['n']:,}",
                f"{s['published']:,}",
                fmt_ms(s["p50_ms"]),
                p99_spread(r),
                fmt_ms(s["max_ms"]),
                fmt_ms(s.get("span_p50_ms")),
                fmt_num(s["frames_per_event"], 3),
                fmt_num(s["wire_bytes_per_event"], 0),
                fmt_num(s["server_cpu_us_per_delivery"]),
                delivered_note(s),
                f"{s['server_cpu_percent']:.0f} %",
                f"{fmt_num(stolen(s), 0)} %",
                writes,
            )
        )
    return "\n".join(lines)


def find(
    results: list[dict[str, Any]],
    kind: str,
    n: int,
    db: str | None = "sqlite",
    deflate: bool = False,
) -> dict[str, Any] | None:
    for r in results:
        if (
            r.get("kind") == kind
            and r.get("n") == n
            and "error" not in r
            and r.get("deflate") == deflate
            and (kind != "imagechat" or r.get("db") == db)
        ):
            return r
    return None


def verdict(ok: bool, shortfall: str) -> str:
    return "**met**" if ok else f"**missed** by {shortfall}"


def burst_targets(name: str, ic: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    rows = []
    rate = ic["burst"]["events_per_second"]
    sio, wsb = find(results, "socketio", 1000), find(results, "websockets", 1000)
    if sio:
        other = sio["burst"]["events_per_second"]
        ratio = rate / other
        need = TARGETS["ratio_vs_socketio"] * other
        rows.append(
            row(
                f"N = 1 000 burst ({name}): ≥ 8 × python-socketio",
                f"{fmt_k(rate)} vs {fmt_k(other)} ev/s = {ratio:.1f} ×",
                verdict(ratio >= 8, f"{fmt_k(need - rate)} ev/s (needs {fmt_k(need)})"),
            )
        )
    if wsb:
        other = wsb["burst"]["events_per_second"]
        rows.append(
            row(
                f"N = 1 000 burst ({name}): ≥ bare websockets",
                f"{fmt_k(rate)} vs {fmt_k(other)} ev/s = {rate / other:.2f} ×",
                verdict(rate >= other, f"{fmt_k(other - rate)} ev/s"),
            )
        )
    need = max(
        8 * REFERENCE["socketio"]["events_per_second"], REFERENCE["websockets"]["events_per_second"]
    )
    rows.append(
        row(
            f"N = 1 000 burst ({name}) against the reference numbers (8 × 17 k, 118 k)",
            f"{fmt_k(rate)} ev/s",
            verdict(rate >= need, f"{fmt_k(need - rate)} ev/s"),
        )
    )
    p99 = ic["steady"]["p99_ms"]
    rows.append(
        row(
            f"N = 1 000, steady 10 writes/s ({name}): p99 < 20 ms",
            f"p99 {fmt_ms(p99)} ms",
            verdict(p99 < TARGETS["steady_p99_ms"], f"{fmt_ms(p99 - TARGETS['steady_p99_ms'])} ms"),
        )
    )
    return rows


def targets(results: list[dict[str, Any]]) -> str:
    rows = header("target", "measured", "verdict", numeric=False)
    for db, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        ic = find(results, "imagechat", 1000, db)
        if ic is not None:
            rows += burst_targets(name, ic, results)
    ns = sorted({r["n"] for r in results if r.get("kind") == "imagechat"}, reverse=True)
    for n in ns:
        ic = find(results, "imagechat", n)
        if ic is None:
            continue
        rss = ic["idle_rss_per_connection"]
        over = f"{(rss - TARGETS['idle_rss_bytes']) / 1024:.1f} KB"
        rows.append(
            row(
                f"idle connection < 20 KB RSS (N = {n:,})",
                f"{rss / 1024:.1f} KB",
                verdict(rss < TARGETS["idle_rss_bytes"], over),
            )
        )
        size = ic.get("single_event_bytes") or 0
        rows.append(
            row(
                "`new-image-chat` with a 140-character comment < 600 bytes on the wire",
                f"{size} bytes",
                verdict(
                    0 < size < TARGETS["event_bytes"], f"{size - TARGETS['event_bytes'] + 1} bytes"
                ),
            )
        )
        break
    if len(rows) == 2:
        rows.append(row("(imagechat not measured at N = 1 000)", "–", "–"))
    return "\n".join(rows)


def transport_targets(results: list[dict[str, Any]]) -> str:
    """The transport's targets at N = 1 000, each against a peer measured in the same run."""
    rows = header("target", "measured", "verdict", numeric=False)
    t = TRANSPORT_TARGETS
    wsb = find(results, "websockets", 1000)
    floor = find(results, "sendloop", 1000)
    for db, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        plain, zipped = (
            find(results, "imagechat", 1000, db),
            find(results, "imagechat", 1000, db, True),
        )
        if zipped is not None:
            size = zipped.get("single_event_bytes") or 0
            steady = zipped["steady"]["wire_bytes_per_event"]
            rows.append(
                row(
                    f"`new-image-chat` on the wire, client offering deflate like Chromium "
                    f"({name}): ≤ {t['deflate_event_bytes']} B",
                    f"{size} B (steady phase: {fmt_num(steady, 0)} B/event)",
                    verdict(
                        0 < size <= t["deflate_event_bytes"],
                        f"{size - t['deflate_event_bytes']} B",
                    ),
                )
            )
        if plain is not None and zipped is not None:
            for phase in ("burst", "steady"):
                on = zipped[phase]["server_cpu_us_per_delivery"]
                off = plain[phase]["server_cpu_us_per_delivery"]
                ratio = on / off if off else math.nan
                rows.append(
                    row(
                        f"server CPU per delivery, deflate vs plain clients, {phase} ({name}): "
                        f"≤ {t['deflate_cpu_ratio']} ×",
                        f"{on:.1f} vs {off:.1f} µs = {ratio:.2f} ×",
                        verdict(
                            ratio <= t["deflate_cpu_ratio"],
                            f"{ratio - t['deflate_cpu_ratio']:.2f} ×",
                        ),
                    )
                )
        for label, r in (("plain", plain), ("deflate", zipped)):
            if r is None or wsb is None:
                continue
            rate, other = r["burst"]["events_per_second"], wsb["burst"]["events_per_second"]
            ratio = rate / other
            rows.append(
                row(
                    f"burst delivered events/s vs bare `websockets.broadcast` ({name}, {label}): "
                    f"≥ {t['burst_vs_websockets']} ×",
                    f"{fmt_k(rate)} vs {fmt_k(other)} ev/s = {ratio:.2f} ×",
                    verdict(
                        ratio >= t["burst_vs_websockets"],
                        f"{t['burst_vs_websockets'] - ratio:.2f} ×",
                    ),
                )
            )
        for label, r in (("plain", plain), ("deflate", zipped)):
            if r is None or wsb is None:
                continue
            mine, other = r["idle_rss_per_connection"], wsb["idle_rss_per_connection"]
            ratio = mine / other
            rows.append(
                row(
                    f"idle RSS per connection vs bare `websockets` ({name}, {label}): "
                    f"≤ {t['rss_vs_websockets']} ×",
                    f"{mine / 1024:.1f} vs {other / 1024:.1f} KB = {ratio:.2f} ×",
                    verdict(ratio <= t["rss_vs_websockets"], f"{(mine - other) / 1024:.1f} KB"),
                )
            )
        for label, r in (("plain", plain), ("deflate", zipped)):
            if r is None:
                continue
            p99 = r["steady"]["p99_ms"]
            rows.append(
                row(
                    f"steady 10 writes/s, publish → receive p99 ({name}, {label}): "
                    f"≤ {t['steady_p99_ms']:.0f} ms",
                    f"{p99_spread(r)} ms"
                    + (f" (floor: the bare send loop's {p99_spread(floor)} ms)" if floor else ""),
                    verdict(p99 <= t["steady_p99_ms"], f"{fmt_ms(p99 - t['steady_p99_ms'])} ms"),
                )
            )
    if len(rows) == 2:
        rows.append(row("(imagechat not measured at N = 1 000)", "–", "–"))
    return "\n".join(rows)


def compression_table(results: list[dict[str, Any]]) -> str:
    rows: list[str] = []
    for db in ("sqlite", "postgres"):
        off, on = find(results, "imagechat", 1000, db), find(results, "imagechat", 1000, db, True)
        if not (off and on):
            continue
        rows += header(
            "permessage-deflate",
            "N",
            "burst events/s",
            "burst CPU µs/delivery",
            "burst bytes/event",
            "steady CPU µs/delivery",
            "steady bytes/event",
            "steady p99 ms",
            "idle RSS/conn",
        )
        for name, r in (("off", off), ("on", on)):
            b, s = r["burst"], r["steady"]
            rows.append(
                row(
                    f"{name} ({db})",
                    "1,000",
                    fmt_num(b["events_per_second"], 0),
                    fmt_num(b["server_cpu_us_per_delivery"]),
                    fmt_num(b["wire_bytes_per_event"], 0),
                    fmt_num(s["server_cpu_us_per_delivery"]),
                    fmt_num(s["wire_bytes_per_event"], 0),
                    fmt_ms(s["p99_ms"]),
                    f"{r['idle_rss_per_connection'] / 1024:.1f} KB",
                )
            )
    return "\n".join(rows) if rows else "(not measured in this run)"


def code_version() -> str:
    """The commit and, if src/ has uncommitted changes, a hash of them: what a run measured."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except Exception:
        commit = "?"
    diff = src_fingerprint()
    return f"{commit}+{diff}" if diff else commit


def src_fingerprint() -> str:
    """A short hash of src/'s uncommitted changes (empty when clean), to tell runs apart."""
    import hashlib

    try:
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            timeout=20,
            check=False,
        ).stdout
        untracked = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            timeout=20,
            check=False,
        ).stdout
    except Exception:
        return "?"
    if not diff and not untracked:
        return ""
    digest = hashlib.sha1(diff)
    for name in untracked.split():
        digest.update(name)
        digest.update((ROOT / name.decode()).read_bytes())
    return digest.hexdigest()[:10]


def environment(args: argparse.Namespace, pin: Pinning, started: float) -> dict[str, Any]:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except Exception:
            return "?"

    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except Exception:
        mem = "?"
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--", "src")),
        "src_diff": src_fingerprint(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "pinned": pin.enabled,
        "nice": pin.nice,
        "loadavg_before": os.getloadavg(),
        "loadavg_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
        "knobs": {k: v for k, v in imagechat_env().items() if k.startswith("IMAGECHAT_")},
        "argv": " ".join(sys.argv[1:]),
    }


def report(results: list[dict[str, Any]], env: dict[str, Any]) -> str:
    knobs = ", ".join(f"`{k}={v}`" for k, v in sorted(env["knobs"].items())) or "defaults"
    niced = f", both at nice {env['nice']}" if env.get("nice") else ""
    dirty = f" + uncommitted src/ changes (diff {env.get('src_diff')})" if env["dirty"] else ""
    pinned = "" if env["pinned"] else " (NOT pinned: no taskset)"
    versions = sorted({r["code"] for r in results if r.get("code")})
    if len(versions) > 1:
        dirty += (
            f". WARNING: src/ changed during this run ({', '.join(versions)}): rows were "
            "measured on different code"
        )
    head = (
        f"Run of {env['date']} on commit `{env['commit']}`{dirty}; `fanout.py {env['argv']}`; "
        f"{env['cores']} × {env['cpu']}, {env['memory']}, Python {env['python']}; "
        f"server on core 0, load generator on core 1{pinned}{niced}; "
        f"imagechat knobs: {knobs}; load average before/after {env['loadavg_before'][0]:.2f} / "
        f"{env['loadavg_after'][0]:.2f}; took {env['seconds'] / 60:.1f} min."
    )
    return "\n\n".join(
        [
            head,
            tables(results),
            "Transport targets (N = 1 000; verdicts computed from this run, against the peer "
            "measured in it):",
            transport_targets(results),
            "Earlier targets (verdicts computed from this run):",
            targets(results),
            "permessage-deflate offered vs not (imagechat, N = 1 000, compression on in the "
            "server as by default; the load generator offers deflate the way Chromium does "
            '(`permessage-deflate; client_max_window_bits`) only in the "on" run; bytes are the '
            "compressed payload):",
            compression_table(results),
        ]
    )


def write_readme(text: str) -> None:
    current = README.read_text() if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in current or END not in current:
        current = current.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    before, rest = current.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{text}\n{END}{after}")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", default="100,1000,5000", help="subscriber counts (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 100, short phases")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="imagechat | socketio | websockets | sendloop (repeatable or comma-separated)",
    )
    parser.add_argument(
        "--db",
        default=None,
        help="imagechat databases: sqlite,postgres (default: both when PostgreSQL "
        "answers at 127.0.0.1:5432, SQLite only with --quick)",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="skip the permessage-deflate run of imagechat at N = 1000",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=0,
        help="writes in the burst (default 300000/N clamped to 60..1000)",
    )
    parser.add_argument("--rate", type=float, default=10.0, help="steady writes per second")
    parser.add_argument(
        "--repeat",
        default="3@1000",
        metavar="K[@N,...]",
        help="runs of each system (interleaved) at every N, or only at the Ns named after @; "
        "the tables show the median burst run (default 3@1000: the targets' N; quick: 1)",
    )
    parser.add_argument("--steady-seconds", type=float, default=0.0, help="default 10 (quick: 3)")
    parser.add_argument("--writers", type=int, default=8, help="concurrent imagechat REST writers")
    parser.add_argument(
        "--budget",
        type=float,
        default=900.0,
        help="seconds; runs that would start after this are skipped",
    )
    parser.add_argument("--no-pin", action="store_true", help="don't use taskset")
    parser.add_argument(
        "--nice",
        type=int,
        default=-10,
        help="niceness of server and load generator (negative needs root; 0 = off)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=10.0,
        help="seconds to wait for idle cores before each run",
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=30.0,
        help="measure a run again when other processes took more than this %% "
        "of a pinned core during its burst",
    )
    parser.add_argument("--json", default=None, help="also write every raw result to this file")
    parser.add_argument(
        "--report-from",
        default=None,
        metavar="FILE",
        help="measure nothing: print (with --write-readme, also write) the report of the run "
        "whose --json wrote FILE",
    )
    parser.add_argument(
        "--gc-threshold",
        default=None,
        metavar="A,B,C",
        help="with --gc-log: gc.set_threshold(A, B, C) in the imagechat server (an experiment)",
    )
    parser.add_argument(
        "--gc-log",
        action="store_true",
        help="run imagechat under gcboot.py and report its GC pauses per phase",
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="DIR",
        help="record each imagechat server with py-spy (collapsed stacks in DIR)",
    )
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="rewrite the results section of benchmarks/README.md",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for part in args.only for s in part.split(",") if s.strip()]
    for name in only:
        if name not in SYSTEMS:
            parser.error(f"--only takes {' | '.join(SYSTEMS)}, not {name!r}")
    args.systems = [s for s in SYSTEMS if not only or s in only]
    args.ns = [100] if args.quick else [int(x) for x in args.n.split(",") if x.strip()]
    if args.gc_threshold:
        os.environ["GCBOOT_THRESHOLD"] = args.gc_threshold  # read by gcboot.py
        args.gc_log = True
    count, _, only_ns = args.repeat.partition("@")
    args.repeat_count = 1 if args.quick else max(1, int(count))
    args.repeat_ns = {int(x) for x in only_ns.split(",") if x.strip()} if only_ns else None
    if args.quick:  # a smoke run: no second tries, short waits for idle cores
        args.max_foreign = math.inf
        args.quiet_wait = min(args.quiet_wait, 3.0)
    return args


def report_again(path: str, write: bool) -> None:
    """The report of an earlier run, from the file its --json wrote."""
    saved = json.loads(Path(path).read_text())
    text = report(saved["results"], saved["environment"])
    print(text)
    if write:
        write_readme(text)
        log(f"wrote {README.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.report_from:
        report_again(args.report_from, args.write_readme)
        return
    started = time.monotonic()
    raise_fd_limit()  # inherited by the servers and the load generator
    pin = Pinning(not args.no_pin, args.nice)
    if not pin.enabled and not args.no_pin:
        log("taskset or a second core is missing: server and load generator are NOT pinned")
    loadavg = os.getloadavg()
    if args.db:
        dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    elif args.quick or "imagechat" not in args.systems:
        dbs = ["sqlite"]
    else:
        dbs = ["sqlite", "postgres"] if postgres_available() else ["sqlite"]
    if "postgres" in dbs and not postgres_available():
        log("PostgreSQL does not answer at 127.0.0.1:5432: SQLite only")
        dbs = [d for d in dbs if d != "postgres"]

    jobs: list[tuple[str, str | None, bool, int]] = []
    for n in args.ns:
        rounds = args.repeat_count if args.repeat_ns is None or n in args.repeat_ns else 1
        for _ in range(rounds):  # rounds interleave the systems: drift hits all alike
            for system in args.systems:
                if system == "imagechat":
                    jobs += [("imagechat", db, False, n) for db in dbs]
                else:
                    jobs.append((system, None, False, n))
            if n == 1000 and "imagechat" in args.systems and not args.no_compression:
                jobs.append(("imagechat", dbs[0], True, n))

    results: list[dict[str, Any]] = []
    template: dict[str, Any] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="imagechat-fanout-"))

    def estimate(n: int) -> float:
        return 20 + n / 100

    try:
        for index, (system, db, compression, n) in enumerate(jobs):
            left = args.budget - (time.monotonic() - started)
            if estimate(n) > left:
                log(f"budget of {args.budget:.0f} s reached: skipping {system} N = {n}")
                continue
            if system != "imagechat" and template is None:
                template = built_template()
            result = measure(system, db, compression, n, args, tmp, pin, template)
            other = foreign_load(result)
            left = args.budget - (time.monotonic() - started)
            later = sum(estimate(job[3]) for job in jobs[index + 1 :])
            if other > args.max_foreign and estimate(n) + later < left:
                log(f"other processes took {other:.0f} % of a pinned core: measuring again")
                again = measure(system, db, compression, n, args, tmp, pin, template)
                if "error" not in again and not foreign_load(again) > other:
                    result = again
            if system == "imagechat" and not compression:
                template = template_from_wire(result.get("sample_event")) or template
            results.append(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    results = medians(results)
    env = environment(args, pin, started)
    env["loadavg_before"] = loadavg
    text = report(results, env)
    print(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"environment": env, "results": results}, indent=1, default=str)
        )
    if args.write_readme:
        write_readme(text)
        log(f"wrote {README.relative_to(ROOT)}")
    if any("error" in r for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
