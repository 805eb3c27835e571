"""Real processes for cluster tests and benchmarks: redis-server, `imagechat serve`, nginx.

Each lives on a free loopback port, writes its log to a file in a directory of its own, and
is stopped (or killed) by whoever started it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REDIS_SERVER = "/usr/bin/redis-server"
NGINX = "/usr/sbin/nginx"
IMAGECHAT = str(Path(sys.executable).with_name("imagechat"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def _stop(process: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class RedisServer:
    """A redis-server of the test's own, which it may stop, kill and start again."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.log", "ab") as log:  # the child keeps its own copy
            self.process = self._popen(log)
        _wait_for_port(self.port, 10, self.process)

    def _popen(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)
        self.process = None

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)
        self.process = None

    def cli(self, *args: str) -> str:
        found = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        done = subprocess.run(
            [found, "-p", str(self.port), *args], capture_output=True, timeout=10, check=True
        )
        return done.stdout.decode()


class Node:
    """One `imagechat serve` process."""

    def __init__(
        self, directory: Path, database_url: str, broker_url: str, **settings: object
    ) -> None:
        self.port = free_port()
        self.directory = directory
        self.database_url = database_url
        self.broker_url = broker_url
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
        env.update({f"IMAGECHAT_{k.upper()}": str(v) for k, v in self.settings.items()})
        env["IMAGECHAT_LOG_LEVEL"] = "warning"
        with open(self.directory / f"node-{self.port}.log", "ab") as log:
            self.process = self._popen(log, env)
        _wait_for_port(self.port, timeout, self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"node on {self.port} is not healthy")

    def _popen(self, log: Any, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                IMAGECHAT,
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--broker-url",
                self.broker_url,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def health(self) -> dict[str, object]:
        answer: dict[str, object] = httpx.get(self.url + "/healthz", timeout=5).json()
        return answer

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM: the graceful stop (1012 to clients, usage saved)."""
        _stop(self.process, signal.SIGTERM)
        self.process = None

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)
        self.process = None


NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{site}
}}
"""


class Nginx:
    """nginx in front of nodes, with `site` (the http-level part of docs/scaling.md)."""

    def __init__(self, directory: Path, site: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.site = site
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.directory, site=self.site))
        with open(self.directory / "nginx.out", "ab") as log:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(self.directory), "-c", str(conf), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.port, 10, self.process)

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)
        self.process = None
