"""One task per connection that sends frames: at once when idle, coalesced while busy."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

from imagechat.realtime.frames import ControlFrame, EventFrame, Frame, batch_payload
from imagechat.realtime.usage import UsageMeter


class Sink(Protocol):
    """Where a writer's frames go: one WebSocket connection."""

    async def send_event(self, frame: EventFrame) -> None:
        """Send one event frame, shared as is with every other subscriber."""

    async def send_payload(self, payload: bytes) -> None:
        """Send one text frame holding this JSON (a control frame or a batch)."""


SLOW_CONSUMER = 4008
RESTARTING = 1012


class WriterClosed(Exception):
    """The writer stopped: `code` is the close code the connection should be closed with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Writer:
    """A bounded queue of frames and the loop that sends them.

    Frames queued while a send is in flight (or within `window` seconds of the last one) leave
    together: consecutive events become one array frame of at most `max_batch` events. A queue
    longer than `queue_limit` means the peer does not keep up: the writer stops with 4008, and
    the hub never waits for it.
    """

    __slots__ = (
        "_closing",
        "_last_send",
        "_limit",
        "_max_batch",
        "_meter",
        "_queue",
        "_sink",
        "_task",
        "_wake",
        "_window",
        "frames_sent",
    )

    def __init__(
        self,
        sink: Sink,
        meter: UsageMeter,
        *,
        max_batch: int = 100,
        queue_limit: int = 2000,
        window: float = 0.0,
    ) -> None:
        self._sink = sink
        self._meter = meter
        self._max_batch = max(1, max_batch)
        self._limit = queue_limit
        self._window = window
        self._queue: deque[Frame] = deque()
        self._wake = asyncio.Event()
        self._closing: WriterClosed | None = None
        self._last_send = 0.0
        self._task: asyncio.Task[None] | None = None
        self.frames_sent = 0

    def push(self, frame: Frame) -> None:
        if self._closing is not None:
            return
        self._queue.append(frame)
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
            if self._closing is not None:
                raise self._closing
            if self._window and len(queue) == 1 and isinstance(queue[0], EventFrame):
                # Busy lately: give the burst a moment to gather into one frame.
                wait = self._last_send + self._window - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            while queue:
                if self._closing is not None:
                    raise self._closing
                await self._send_next(queue)

    async def _send_next(self, queue: deque[Frame]) -> None:
        first = queue.popleft()
        if isinstance(first, ControlFrame):
            await self._sink.send_payload(first.data)
            if first.events:
                self._meter.delivered(first.tenant_id, first.events, first.nbytes)
        elif not queue or not isinstance(queue[0], EventFrame):
            await self._sink.send_event(first)
            self._meter.delivered(first.tenant_id, 1, first.nbytes)
        else:
            batch = [first]
            while queue and len(batch) < self._max_batch and isinstance(queue[0], EventFrame):
                batch.append(queue.popleft())  # type: ignore[arg-type]
            await self._sink.send_payload(batch_payload(batch))
            # Bytes of the array: each event, its comma or bracket, one more bracket.
            meter = self._meter
            meter.delivered(batch[0].tenant_id, 1, batch[0].nbytes + 2)
            for frame in batch[1:]:
                meter.delivered(frame.tenant_id, 1, frame.nbytes + 1)
        self.frames_sent += 1
        self._last_send = time.monotonic()
