"""Brokers carry committed events between nodes. Picked by URL: memory:// serves one process,
redis:// (rediss://, valkey://) many.

A broker may drop, delay, reorder or duplicate messages: offsets come from the database and
every hub repairs gaps from the event log, so the broker is the fast path, never the record.
A node's own subscribers never wait for it: the live service hands each event to the local
hub first, and the broker only carries it to the other nodes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from imagechat.domain.events import EncodedEvent

Deliver = Callable[[EncodedEvent], None]
ChannelKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the broker reaches the other nodes now, and why not when it doesn't."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts summed over the other live nodes: viewers per channel, connections per tenant."""

    viewers: dict[ChannelKey, int]
    connections: dict[str, int]


class Broker(Protocol):
    name: str

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        """Hand events from other nodes to `deliver`; call `resync` after each (re)connect,
        when messages may have been missed, so that every channel's head is checked at once."""

    def watch(self, key: ChannelKey) -> None:
        """This node's clients follow a channel: receive its events from now on."""

    def unwatch(self, key: ChannelKey) -> None:
        """No client here follows the channel any more."""

    def publish(self, event: EncodedEvent) -> None:
        """Queue a committed event for the other nodes; never waits."""

    def health(self) -> Health: ...

    async def exchange(
        self, viewers: dict[ChannelKey, int], connections: dict[str, int]
    ) -> Totals | None:
        """Share this node's counts; the other nodes' sums, or None when they are unknown."""

    async def close(self) -> None: ...


class MemoryBroker:
    """One process: the hub already has every event, so there is nothing to carry."""

    name = "memory"

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        return None

    def watch(self, key: ChannelKey) -> None:
        return None

    def unwatch(self, key: ChannelKey) -> None:
        return None

    def publish(self, event: EncodedEvent) -> None:
        return None

    def health(self) -> Health:
        return Health(True)

    async def exchange(
        self, viewers: dict[ChannelKey, int], connections: dict[str, int]
    ) -> Totals | None:
        return None

    async def close(self) -> None:
        return None


REDIS_SCHEMES = frozenset({"redis", "rediss", "valkey", "valkeys", "unix"})


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else url.lower()


def broker_from_url(url: str, *, node_id: str | None = None, outbox_limit: int = 10_000) -> Broker:
    scheme = scheme_of(url)
    if scheme == "memory":
        return MemoryBroker()
    if scheme in REDIS_SCHEMES:
        from imagechat.realtime.redis_broker import RedisBroker

        return RedisBroker(url, node_id=node_id or new_node_id(), outbox_limit=outbox_limit)
    raise ValueError(
        f"unsupported broker URL {url!r}: use memory:// (one process) or "
        "redis://, rediss://, valkey:// (many)"
    )


def new_node_id() -> str:
    return secrets.token_hex(6)
