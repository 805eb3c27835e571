"""Per-connection sending: at once when the socket can take it, queued and coalesced when not.

The hub hands each connection items shared with every other subscriber (an event's frame, or
a channel's batch frame). When the connection's queue is empty and its socket writable, the
item is written right away, in the hub's loop, with no task switch. Otherwise it is queued and
the connection's writer task sends the backlog as soon as it can, merging consecutive events
into one array frame of at most `max_batch` events. A backlog longer than `queue_limit` items
means the peer does not keep up: the writer stops with 4008 and the hub never waits for it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from imagechat.realtime.frames import (
    ControlFrame,
    EventBatch,
    EventFrame,
    Frame,
    batch_payload,
    events_in,
)
from imagechat.realtime.usage import UsageMeter


class Sink(Protocol):
    """Where a writer's frames go: one WebSocket connection."""

    def try_send(self, item: Frame) -> bool:
        """Send now if that needs no waiting (the socket is writable); False otherwise."""

    async def send(self, item: Frame) -> None:
        """Send, waiting as long as the peer needs."""

    async def send_payload(self, payload: bytes) -> None:
        """Send one text frame holding this JSON (a batch made for this connection)."""


SLOW_CONSUMER = 4008
RESTARTING = 1012


class WriterClosed(Exception):
    """The writer stopped: `code` is the close code the connection should be closed with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Writer:
    __slots__ = (
        "_busy",
        "_closing",
        "_limit",
        "_max_batch",
        "_meter",
        "_queue",
        "_sink",
        "_task",
        "_wake",
        "frames_sent",
    )

    def __init__(
        self, sink: Sink, meter: UsageMeter, *, max_batch: int = 100, queue_limit: int = 2000
    ) -> None:
        self._sink = sink
        self._meter = meter
        self._max_batch = max(1, max_batch)
        self._limit = queue_limit
        self._queue: deque[Frame] = deque()
        self._wake = asyncio.Event()
        self._closing: WriterClosed | None = None
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self.frames_sent = 0

    def push(self, item: Frame) -> None:
        if self._closing is not None:
            return
        if not self._busy and not self._queue and self._sink.try_send(item):
            self._count(item)
            return
        self._queue.append(item)
        if len(self._queue) > self._limit:
            self.stop(SLOW_CONSUMER, "too slow: the send queue overflowed")
        self._wake.set()

    def stop(self, code: int, reason: str) -> None:
        """Stop sending; `run` raises WriterClosed(code) so the connection closes with it."""
        if self._closing is None:
            self._closing = WriterClosed(code, reason)
            self._queue.clear()
            if self._task is not None:
                # It may be stuck in a send to a peer that stopped reading: don't wait for it.
                self._task.cancel()
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        self._task = asyncio.current_task()
        try:
            await self._run()
        except asyncio.CancelledError:
            if self._closing is not None:
                raise self._closing from None
            raise

    async def _run(self) -> None:
        queue = self._queue
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            try:
                while queue:
                    if self._closing is not None:
                        raise self._closing
                    await self._send_next(queue)
            finally:
                self._busy = False
            if self._closing is not None:
                raise self._closing

    async def _send_next(self, queue: deque[Frame]) -> None:
        first = queue.popleft()
        if isinstance(first, ControlFrame) or not queue or isinstance(queue[0], ControlFrame):
            await self._sink.send(first)
            self._count(first)
            return
        # A backlog of events: one array frame for this connection.
        merged = list(events_in(first))
        while queue and len(merged) < self._max_batch and not isinstance(queue[0], ControlFrame):
            merged.extend(events_in(queue.popleft()))  # type: ignore[arg-type]
        payload = batch_payload(merged)
        await self._sink.send_payload(payload)
        self.frames_sent += 1
        # Bytes of the array: each event, its comma or bracket, one more bracket.
        meter = self._meter
        meter.delivered(merged[0].tenant_id, 1, merged[0].nbytes + 2)
        for frame in merged[1:]:
            meter.delivered(frame.tenant_id, 1, frame.nbytes + 1)

    def _count(self, item: Frame) -> None:
        self.frames_sent += 1
        if isinstance(item, EventFrame):
            self._meter.delivered(item.tenant_id, 1, item.nbytes)
        elif isinstance(item, EventBatch):
            self._meter.delivered(item.tenant_id, len(item.events), item.nbytes)
        elif item.events:
            self._meter.delivered(item.tenant_id, item.events, item.nbytes)
