"""Limits of the /ws endpoint: connections per client address, replay work per connection."""

from __future__ import annotations

import time


class AddressCounter:
    """Open WebSocket connections per client address, on this node."""

    __slots__ = ("_open", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: unlimited
        self._open: dict[str, int] = {}

    def enter(self, address: str) -> bool:
        """Count one more connection from `address`; False (not counted) when over the limit."""
        count = self._open.get(address, 0)
        if self.limit > 0 and count >= self.limit:
            return False
        self._open[address] = count + 1
        return True

    def leave(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)


class ReplayBudget:
    """Events one connection may have read from the log for its subscribes.

    Refills at `rate` events a second up to `burst`. A subscribe is refused while the budget
    is spent; one that is let through may overdraw it by the replay it reads (at most
    `max_replay` events), which later subscribes then wait for.
    """

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate  # 0: unlimited
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def wait(self) -> float:
        """0 if a subscribe may read now, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def spend(self, events: int) -> None:
        if self.rate > 0:
            self.tokens -= events
