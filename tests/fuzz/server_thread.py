"""A real server on a loopback port, in a thread of its own with its own event loop, for tests
that drive it synchronously (schemathesis) or from another loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn

from imagechat.settings import Settings
from imagechat.storage.store import Store
from imagechat.web.app import create_app

T = TypeVar("T")


class ThreadServer:
    def __init__(self, database_url: str, **settings: Any) -> None:
        self.settings = Settings(database_url=database_url, **settings)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.store: Store | None = None
        self.server: uvicorn.Server | None = None
        self.serving: concurrent.futures.Future[None] | None = None

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.store = self.run(Store.open(self.settings.database_url, run_migrations=True))
        app = create_app(self.settings, self.store)
        self.app = app
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
            ws_max_size=64 * 1024,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.serving = asyncio.run_coroutine_threadsafe(self.server.serve(), self.loop)
        for _ in range(1000):
            if self.server.started:
                return
            if self.serving.done():
                self.serving.result()
            threading.Event().wait(0.01)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.server is not None and self.serving is not None:
            self.server.should_exit = True
            self.serving.result(30)
        if self.store is not None:
            self.run(self.store.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
