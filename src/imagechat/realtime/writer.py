"""Per-connection sending: at once when the socket can take it, queued and coalesced when not.

The hub hands each connection items shared with every other subscriber (an event's frame, or
a channel's batch frame). When the connection has no backlog and its socket is writable, the
item is written right away, in the hub's loop, with no task switch. Otherwise it is queued and
a drain task, started for the backlog and gone with it, sends it as soon as the socket allows:
up to `max_batch` queued frames in one write, each still the shared prepared frame (plain or
compressed), so a backlog never costs encoding or compression per connection. A backlog longer
than `queue_limit` items means the peer does not keep up: the writer stops with 4008 and the
hub never waits for it. An idle connection holds no task and no queue: memory per connection
is what bounds how many one process serves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from imagechat.realtime.frames import EventBatch, EventFrame, Frame
from imagechat.realtime.usage import UsageMeter

log = logging.getLogger(__name__)

SLOW_CONSUMER = 4008
RESTARTING = 1012
GOING_AWAY = 1001


class Sink(Protocol):
    """Where a writer's frames go: one WebSocket connection."""

    def try_send(self, item: Frame) -> bool:
        """Send now if that needs no waiting (the socket is writable); False otherwise."""

    async def send(self, item: Frame) -> None:
        """Send, waiting as long as the peer needs."""

    async def send_many(self, items: Sequence[Frame]) -> None:
        """Send several frames in one write, waiting as long as the peer needs."""


class WriterClosed(Exception):
    """The writer stopped: `code` is the close code the connection should be closed with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Writer:
    __slots__ = (
        "_drain",
        "_limit",
        "_max_batch",
        "_meter",
        "_queue",
        "_sink",
        "closed",
        "on_stop",
    )

    def __init__(
        self, sink: Sink, meter: UsageMeter, *, max_batch: int = 100, queue_limit: int = 2000
    ) -> None:
        self._sink = sink
        self._meter = meter
        self._max_batch = max(1, max_batch)
        self._limit = queue_limit
        self._queue: deque[Frame] | None = None  # only while there is a backlog
        self._drain: asyncio.Task[None] | None = None
        self.closed: WriterClosed | None = None
        self.on_stop: Callable[[WriterClosed], object] | None = None

    def push(self, item: Frame) -> None:
        """Send or queue one item; counted as delivered when it is sent."""
        if not self.offer(item):
            return
        self._count(item)

    def offer(self, item: Frame) -> bool:
        """Send at once and return True, or queue (the drain task counts it when sent)."""
        if self.closed is not None:
            return False
        queue = self._queue
        if queue is None:
            if self._sink.try_send(item):
                return True
            queue = self._queue = deque()
            self._drain = asyncio.get_running_loop().create_task(self._run())
        queue.append(item)
        if len(queue) > self._limit:
            self.stop(SLOW_CONSUMER, "too slow: the send queue overflowed")
        return False

    def stop(self, code: int, reason: str) -> None:
        """Stop sending and tell `on_stop`, so that the connection closes with `code`."""
        if self.closed is not None:
            return
        self.closed = WriterClosed(code, reason)
        if code == SLOW_CONSUMER:
            self._meter.slow_close()
        self._queue = None
        if self._drain is not None:
            # It may be stuck in a send to a peer that stopped reading: don't wait for it.
            self._drain.cancel()
        if self.on_stop is not None:
            self.on_stop(self.closed)

    @property
    def queued(self) -> int:
        return len(self._queue) if self._queue is not None else 0

    async def _run(self) -> None:
        try:
            queue = self._queue
            while queue and queue is self._queue:
                await self._send_next(queue)
        except asyncio.CancelledError:
            return
        except Exception as error:  # the socket went away under us
            log.debug("send failed: %r", error)
            self.stop(GOING_AWAY, "the connection failed")
            return
        finally:
            self._drain = None
        self._queue = None  # caught up: the next item may go straight out again

    async def _send_next(self, queue: deque[Frame]) -> None:
        run = [queue.popleft()]
        while queue and len(run) < self._max_batch:
            run.append(queue.popleft())
        if len(run) == 1:
            await self._sink.send(run[0])
        else:
            await self._sink.send_many(run)
        for item in run:
            self._count(item)

    def _count(self, item: Frame) -> None:
        if isinstance(item, EventFrame):
            self._meter.delivered(item.tenant_id, 1, item.nbytes)
        elif isinstance(item, EventBatch):
            self._meter.delivered(item.tenant_id, len(item.events), item.nbytes)
        elif item.events:
            self._meter.delivered(item.tenant_id, item.events, item.nbytes)
