"""Brokers carry committed events between nodes. Picked by URL; memory:// serves one process.

A broker may drop, delay or duplicate messages: offsets come from the database and every hub
repairs gaps from the event log, so the broker is the fast path, never the record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from imagechat.domain.events import EncodedEvent

Deliver = Callable[[EncodedEvent], None]


class Broker(Protocol):
    async def start(self, deliver: Deliver) -> None:
        """Begin handing every published event (from any node) to `deliver`."""

    async def publish(self, event: EncodedEvent) -> None:
        """Send a committed event to every node; fire and forget."""

    async def close(self) -> None: ...


class MemoryBroker:
    """Delivers within this process, on the next turn of the event loop, in publish order."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, event: EncodedEvent) -> None:
        if self._deliver is not None:
            asyncio.get_running_loop().call_soon(self._deliver, event)

    async def close(self) -> None:
        self._deliver = None


def broker_from_url(url: str) -> Broker:
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.lower()
    if scheme == "memory":
        return MemoryBroker()
    raise ValueError(f"unsupported broker URL {url!r}: this version knows memory:// (one process)")
