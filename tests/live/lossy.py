"""A broker for tests that loses, doubles, reorders and replays stale messages on purpose."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from imagechat.domain.events import EncodedEvent
from imagechat.realtime.broker import ChannelKey, Deliver, Health, Totals

STALE_EPOCH = "00000000.000000000000"  # generation 0: older than any epoch the server makes


class LossyBus:
    """Connects the LossyBrokers of several in-process nodes."""

    def __init__(
        self,
        *,
        seed: int,
        drop: float = 0.15,
        duplicate: float = 0.1,
        max_delay: float = 0.02,
        stale_every: int = 7,
    ) -> None:
        self.random = random.Random(seed)
        self.drop, self.duplicate, self.max_delay = drop, duplicate, max_delay
        self.stale_every = stale_every
        self.nodes: list[LossyBroker] = []
        self.published = self.dropped = self.doubled = self.stale = 0

    def broker(self) -> LossyBroker:
        node = LossyBroker(self)
        self.nodes.append(node)
        return node

    def carry(self, source: LossyBroker, event: EncodedEvent) -> None:
        self.published += 1
        loop = asyncio.get_running_loop()
        for node in self.nodes:
            if node is source or node.deliver is None:
                continue
            if self.random.random() < self.drop:
                self.dropped += 1
                continue
            copies = 2 if self.random.random() < self.duplicate else 1
            self.doubled += copies - 1
            for _ in range(copies):
                loop.call_later(self.random.uniform(0, self.max_delay), node.receive, event)
            if self.published % self.stale_every == 0:
                self.stale += 1
                late = EncodedEvent(
                    event.tenant_id, event.url_id, STALE_EPOCH, event.offset + 1, b'{"stale":1}'
                )
                loop.call_later(self.random.uniform(0, self.max_delay), node.receive, late)


class LossyBroker:
    name = "lossy"

    def __init__(self, bus: LossyBus) -> None:
        self.bus = bus
        self.deliver: Deliver | None = None
        self.watched: set[ChannelKey] = set()

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        self.deliver = deliver

    def watch(self, key: ChannelKey) -> None:
        self.watched.add(key)

    def unwatch(self, key: ChannelKey) -> None:
        self.watched.discard(key)

    def publish(self, event: EncodedEvent) -> None:
        self.bus.carry(self, event)

    def receive(self, event: EncodedEvent) -> None:
        if self.deliver is not None and (event.tenant_id, event.url_id) in self.watched:
            self.deliver(event)

    def health(self) -> Health:
        return Health(True)

    async def exchange(
        self, viewers: dict[ChannelKey, int], connections: dict[str, int]
    ) -> Totals | None:
        return None

    async def close(self) -> None:
        self.deliver = None
