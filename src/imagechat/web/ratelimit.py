"""Rate limits per key (tenant and client address): token buckets in this process and, with a
Redis broker, the same limit counted over the whole deployment in Redis (the `limits` package).

`check(key)` never waits for Redis: it applies this node's bucket and what Redis last said
about the key, and counts the request in Redis in the background. A key found over the limit
there is refused on every node until its window allows it again, so a client spread over N
nodes gets the limit once, not N times, give or take the few requests in flight. With Redis
unreachable each node still enforces the limit on its own.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from imagechat.domain.errors import RateLimited
from imagechat.realtime.outbox import Outbox

log = logging.getLogger(__name__)

MAX_KEYS = 100_000
LIMITER_CLIENT = "imagechat-limiter"  # the name its Redis connections give (CLIENT LIST)


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`. Rate 0 means unlimited."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, now: float | None = None) -> float:
        """Take one token; 0 if it was there, else the seconds until one will be."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """In-process token buckets, one per key."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, key: str) -> None:
        """Raise RateLimited (429, with Retry-After) when `key` has no token left."""
        if self.rate <= 0:
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_idle()
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
        wait = bucket.take()
        if wait > 0:
            raise RateLimited(
                f"too many requests: try again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )

    def _forget_idle(self) -> None:
        """Drop buckets that have refilled completely: forgetting them changes nothing."""
        now = time.monotonic()
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * b.rate >= b.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()

    def start(self) -> None:
        """Nothing runs in the background of an in-process limiter."""

    async def close(self) -> None:
        return None


class ClusterRateLimiter(RateLimiter):
    """The same limit over every node, counted in Redis; this node's buckets stay in front."""

    def __init__(self, rate: float, burst: float, redis_url: str) -> None:
        super().__init__(rate, burst)
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import SlidingWindowCounterRateLimiter
        from redis.asyncio import ConnectionPool

        # A window that holds one burst and refills at `rate`: the bucket's long-run shape.
        window = max(1, round(self.burst / rate)) if rate > 0 else 1
        self._item = RateLimitItemPerSecond(max(1, round(rate * window)), window)
        url = redis_url.replace("valkey", "redis", 1)
        # Our own pool, handed to the storage, so that closing can disconnect it: the storage
        # has no close of its own.
        self._pool = ConnectionPool.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, client_name=LIMITER_CLIENT
        )
        pool: dict[str, Any] = {"connection_pool": self._pool}  # typed there as a plain option
        self._storage = RedisStorage(
            "async+" + url, implementation="redispy", key_prefix="imagechat:rate", **pool
        )
        self._limiter: Any = SlidingWindowCounterRateLimiter(self._storage)
        self._blocked: dict[str, float] = {}  # key -> monotonic time it may come back
        self._hits: Outbox[str] = Outbox(self._count, limit=MAX_KEYS, max_chunk=200)
        self.cluster_refusals = 0

    def check(self, key: str) -> None:
        if self.rate <= 0:
            return
        until = self._blocked.get(key)
        if until is not None:
            wait = until - time.monotonic()
            if wait > 0:
                self.cluster_refusals += 1
                raise RateLimited(
                    f"too many requests: try again in {math.ceil(wait)} s",
                    retry_after=math.ceil(wait),
                )
            del self._blocked[key]
        super().check(key)
        self._hits.put(key)

    def start(self) -> None:
        self._hits.start()

    async def close(self) -> None:
        await self._hits.close(drain_for=0.2)
        await self._pool.disconnect()

    async def _count(self, keys: list[str]) -> None:
        for key in keys:
            if await self._limiter.hit(self._item, key):
                continue
            stats = await self._limiter.get_window_stats(self._item, key)
            wait = max(1.0, stats.reset_time - time.time())
            if len(self._blocked) >= MAX_KEYS:
                now = time.monotonic()
                self._blocked = {k: t for k, t in self._blocked.items() if t > now}
            self._blocked[key] = time.monotonic() + wait


def limiter_for(rate: float, burst: float, broker_url: str) -> RateLimiter:
    """Counted in Redis when the broker is Redis, in this process otherwise."""
    from imagechat.realtime.broker import REDIS_SCHEMES, scheme_of

    if rate > 0 and scheme_of(broker_url) in REDIS_SCHEMES - {"unix"}:
        return ClusterRateLimiter(rate, burst, broker_url)
    return RateLimiter(rate, burst)
