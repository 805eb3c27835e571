"""Token buckets: a steady rate with room for bursts, per key (tenant and client address)."""

from __future__ import annotations

import math
import time

from imagechat.domain.errors import RateLimited

MAX_KEYS = 100_000


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
