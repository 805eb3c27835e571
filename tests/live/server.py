"""A real server (uvicorn + the app) inside the test's event loop, on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import httpx
import uvicorn

from imagechat.settings import Settings
from imagechat.storage.store import Store
from imagechat.web.app import create_app
from imagechat.web.ws import live_first
from imagechat.web.wsprotocol import uvicorn_options


class LiveServer:
    """Start, stop and restart a server on one port over one database."""

    def __init__(
        self,
        database_url: str,
        *,
        send_buffer: int | None = None,
        broker: Any = None,
        http: str = "auto",
        **settings: Any,
    ):
        self.database_url = database_url
        self.broker = broker
        self.http = http
        self.settings = Settings(database_url=database_url, **settings)
        self.send_buffer = send_buffer
        self.port = _free_port()
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None
        self.store: Store | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def live(self) -> Any:
        return self.app.state.services.live

    async def metrics(self) -> dict[str, float]:
        """GET /metrics (from loopback): each unlabelled sample by name, labelled ones by line."""
        async with httpx.AsyncClient() as client:
            answer = await client.get(self.url + "/metrics")
        answer.raise_for_status()
        samples: dict[str, float] = {}
        for line in answer.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    async def start(self) -> None:
        if self.store is None:
            self.store = await Store.open(self.database_url, run_migrations=True)
        self.app = create_app(self.settings, self.store, broker=self.broker)
        config = uvicorn.Config(
            live_first(self.app),
            log_level="warning",
            lifespan="on",
            http=self.http,
            timeout_graceful_shutdown=2,
            **uvicorn_options(self.settings),
        )
        self.server = uvicorn.Server(config)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.send_buffer is not None:
            # Accepted sockets inherit it: lets a test fill a slow reader's pipe quickly.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        listener.bind(("127.0.0.1", self.port))
        self.task = asyncio.create_task(self.server.serve(sockets=[listener]))
        for _ in range(500):
            if self.server.started:
                return
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 15)
        self.server = self.task = None

    async def close(self) -> None:
        await self.stop()
        if self.store is not None:
            await self.store.close()
            self.store = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
