"""A bounded queue drained by one task: publishing never holds up the HTTP answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0


class Outbox(Generic[T]):
    """Items wait here until `send` takes them, at most `max_chunk` at a time.

    When the queue holds `limit` items the oldest is dropped, and a chunk whose send fails is
    dropped too: what the outbox carries is also in the event log, where every node finds it
    (a later event shows the gap, the head check catches a lost tail). Holding on to it would
    only grow memory while the broker is away.
    """

    def __init__(
        self,
        send: Callable[[list[T]], Awaitable[None]],
        *,
        limit: int = 10_000,
        max_chunk: int = 500,
        on_result: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        self._send = send
        self._limit = max(1, limit)
        self._max_chunk = max_chunk
        self._on_result = on_result
        self._queue: deque[T] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.dropped = 0
        self._closed = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def put(self, item: T) -> None:
        if len(self._queue) >= self._limit:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(item)
        self._wake.set()

    def __len__(self) -> int:
        return len(self._queue)

    async def close(self, drain_for: float = 1.0) -> None:
        """Give what is queued a moment to leave, then stop."""
        if self._task is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_for
        while self._queue and loop.time() < deadline and not self._task.done():
            await asyncio.sleep(0.01)
        self._closed = True  # some clients turn a cancellation into their own error
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(self._task, 5)
        self._task = None

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._closed:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
            chunk = [self._queue.popleft() for _ in range(min(self._max_chunk, len(self._queue)))]
            try:
                await self._send(chunk)
            except Exception as error:
                if self._closed:
                    return
                self.dropped += len(chunk)
                if self._on_result is not None:
                    self._on_result(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.sent += len(chunk)
            delay = BACKOFF_FIRST
            if self._on_result is not None:
                self._on_result(None)
