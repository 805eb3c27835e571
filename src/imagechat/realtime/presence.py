"""Counts over the whole deployment (viewers per image, connections per tenant) kept in Redis.

Each node writes its own counts into one hash per image (`<prefix>v:<tenant>:<urlId>`) and one
per tenant (`<prefix>c:<tenant>`), a field per node, and stamps itself alive in a sorted set
(`<prefix>nodes`). A reader sums the fields of the nodes stamped within `stale_after` seconds:
a node that died without a word stops counting after that, and its fields are removed by
whoever sees them. Only changed counts are written, plus all of them every `refresh_every`
seconds so that nothing written before a Redis restart stays lost.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from imagechat.realtime.broker import ChannelKey, Totals

log = logging.getLogger(__name__)

KEEP_SECONDS = 86_400  # a hash nobody rewrote for a day belongs to nodes long gone


class RedisCounts:
    def __init__(
        self,
        client: Any,
        node_id: str,
        *,
        prefix: str = "imagechat:",
        stale_after: float = 6.0,
        refresh_every: float = 30.0,
    ) -> None:
        self._client = client
        self.node_id = node_id
        self._prefix = prefix
        self._nodes_key = f"{prefix}nodes"
        self.stale_after = stale_after
        self.refresh_every = refresh_every
        self._viewers: dict[ChannelKey, int] = {}  # as last written
        self._connections: dict[str, int] = {}
        self._next_refresh = 0.0
        self._dead: list[tuple[str, str]] = []  # (hash, field) of nodes found gone

    def viewers_key(self, key: ChannelKey) -> str:
        return f"{self._prefix}v:{key[0]}:{key[1]}"

    def connections_key(self, tenant_id: str) -> str:
        return f"{self._prefix}c:{tenant_id}"

    async def exchange(
        self, viewers: dict[ChannelKey, int], connections: dict[str, int]
    ) -> Totals | None:
        now = time.time()
        full = now >= self._next_refresh
        node = self.node_id
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.zadd(self._nodes_key, {node: now})
            if full:
                pipe.zremrangebyscore(self._nodes_key, "-inf", now - KEEP_SECONDS)
            self._write(pipe, viewers, self._viewers, self.viewers_key, full)
            self._write(pipe, connections, self._connections, self.connections_key, full)
            for name, field in self._dead:
                pipe.hdel(name, field)
            self._dead = []
            pipe.zrangebyscore(self._nodes_key, now - self.stale_after, "+inf")
            view_keys = list(viewers)
            tenants = list(connections)
            for key in view_keys:
                pipe.hgetall(self.viewers_key(key))
            for tenant in tenants:
                pipe.hgetall(self.connections_key(tenant))
            results = await pipe.execute()
        except Exception as error:
            # Rewrite everything once Redis answers again: it may have lost what we wrote.
            self._viewers, self._connections, self._next_refresh = {}, {}, 0.0
            log.debug("exchanging counts failed: %r", error)
            return None
        self._viewers, self._connections = dict(viewers), dict(connections)
        if full:
            self._next_refresh = now + self.refresh_every
        found = results[len(results) - len(view_keys) - len(tenants) :]
        alive = {_text(n) for n in results[len(results) - len(view_keys) - len(tenants) - 1]}
        remote_viewers = {
            key: self._others(self.viewers_key(key), found[i], alive)
            for i, key in enumerate(view_keys)
        }
        remote_connections = {
            tenant: self._others(self.connections_key(tenant), found[len(view_keys) + i], alive)
            for i, tenant in enumerate(tenants)
        }
        return Totals(remote_viewers, remote_connections)

    async def forget(self) -> None:
        """Take this node's counts out at a graceful stop."""
        try:
            pipe = self._client.pipeline(transaction=False)
            for key in self._viewers:
                pipe.hdel(self.viewers_key(key), self.node_id)
            for tenant in self._connections:
                pipe.hdel(self.connections_key(tenant), self.node_id)
            pipe.zrem(self._nodes_key, self.node_id)
            await pipe.execute()
        except Exception as error:
            log.debug("removing this node's counts failed: %r", error)

    def _write(
        self,
        pipe: Any,
        counts: dict[Any, int],
        written: dict[Any, int],
        name_of: Any,
        full: bool,
    ) -> None:
        for key, count in counts.items():
            if full or written.get(key) != count:
                name = name_of(key)
                pipe.hset(name, self.node_id, count)
                pipe.expire(name, KEEP_SECONDS)
        for key in written.keys() - counts.keys():
            pipe.hdel(name_of(key), self.node_id)

    def _others(self, name: str, fields: dict[Any, Any], alive: set[str]) -> int:
        total = 0
        for raw_node, raw_count in fields.items():
            node = _text(raw_node)
            if node == self.node_id:
                continue
            if node in alive:
                total += int(raw_count)
            else:
                self._dead.append((name, node))
        return total


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
