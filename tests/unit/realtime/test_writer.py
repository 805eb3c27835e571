"""The per-connection writer: immediate sends, backlog coalescing, bounds, stuck sends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson

from imagechat.realtime import frames
from imagechat.realtime.frames import ControlFrame, EventBatch, EventFrame, Frame
from imagechat.realtime.usage import UsageMeter
from imagechat.realtime.writer import SLOW_CONSUMER, Writer, WriterClosed


def event(offset: int, tenant: str = "t") -> EventFrame:
    return EventFrame.of(tenant, offset, orjson.dumps({"type": "new-image-chat", "offset": offset}))


class Peer:
    """A sink that can be told to stop taking data, like a socket whose peer stopped reading."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[bytes] = []
        self.writes: list[int] = []  # frames per send_many
        self.items: list[Frame] = []
        self.delay = delay
        self.open = asyncio.Event()
        self.open.set()

    def try_send(self, item: Frame) -> bool:
        if not self.open.is_set() or self.delay:
            return False
        self._record(item)
        return True

    async def send(self, item: Frame) -> None:
        await self._wait()
        self._record(item)

    async def send_many(self, items: Sequence[Frame]) -> None:
        await self._wait()
        self.writes.append(len(items))
        for item in items:
            self._record(item)

    async def _wait(self) -> None:
        await self.open.wait()
        if self.delay:
            await asyncio.sleep(self.delay)

    def _record(self, item: Frame) -> None:
        self.items.append(item)
        self.sent.append(item.data)

    def bodies(self) -> list[Any]:
        return [orjson.loads(raw) for raw in self.sent]


async def test_an_idle_writer_sends_at_once_without_a_task_switch() -> None:
    peer, meter = Peer(), UsageMeter()
    writer = Writer(peer, meter)
    shared = event(1)
    writer.push(shared)  # no task is even running: the send happened inside push
    assert peer.items == [shared] and peer.items[0] is shared
    assert meter.flush()[0].messages == 1


async def test_a_backlog_leaves_in_writes_of_at_most_max_batch_shared_frames() -> None:
    peer, meter = Peer(), UsageMeter()
    peer.open.clear()  # the socket can't take data for now
    writer = Writer(peer, meter, max_batch=4)
    for n in range(1, 11):
        writer.push(event(n))
    await asyncio.sleep(0.01)
    peer.open.set()
    for _ in range(100):
        if len(peer.items) >= 10:
            break
        await asyncio.sleep(0.01)
    assert peer.writes == [4, 4, 2]
    # The very frames the hub shared: nothing is re-encoded (or re-compressed) per connection.
    assert [item.offset for item in peer.items] == list(range(1, 11))  # type: ignore[union-attr]
    day = meter.flush()[0]
    assert day.messages == 10
    assert day.bandwidth == sum(len(raw) for raw in peer.sent)


async def test_shared_batches_count_every_event_they_carry() -> None:
    peer, meter = Peer(), UsageMeter()
    writer = Writer(peer, meter)
    batch = EventBatch.of([event(1), event(2), event(3)])
    writer.push(batch)
    assert peer.items == [batch]
    day = meter.flush()[0]
    assert (day.messages, day.bandwidth) == (3, len(batch.data))


async def test_control_frames_keep_their_place_in_a_backlog() -> None:
    peer = Peer()
    peer.open.clear()
    writer = Writer(peer, UsageMeter())
    for item in (event(1), event(2), frames.PONG, event(3)):
        writer.push(item)
    await asyncio.sleep(0.01)
    peer.open.set()
    await asyncio.sleep(0.05)
    kinds = [b["type"] for b in peer.bodies()]
    assert kinds == ["new-image-chat", "new-image-chat", "pong", "new-image-chat"]
    assert isinstance(peer.items[2], ControlFrame)


async def test_overflow_stops_a_stuck_writer_with_4008() -> None:
    peer = Peer()
    peer.open.clear()  # the peer stopped reading: sends never complete
    writer = Writer(peer, UsageMeter(), queue_limit=5)
    stopped: list[WriterClosed] = []
    writer.on_stop = stopped.append
    for n in range(1, 10):
        writer.push(event(n))
        await asyncio.sleep(0)
    assert [closed.code for closed in stopped] == [SLOW_CONSUMER]
    assert writer.closed is stopped[0]
    assert writer.queued == 0  # the queue is released at once
    writer.push(event(10))  # and nothing more is taken
    assert writer.queued == 0


async def test_a_drained_backlog_lets_the_next_item_go_straight_out() -> None:
    peer = Peer()
    peer.open.clear()
    writer = Writer(peer, UsageMeter())
    writer.push(event(1))
    writer.push(event(2))
    peer.open.set()
    await asyncio.sleep(0.02)
    assert writer.queued == 0 and writer._drain is None
    writer.push(event(3))
    assert peer.items[-1].offset == 3  # sent inside push: no backlog, no task


def test_usage_meter_keeps_peak_and_restores_a_failed_flush() -> None:
    meter = UsageMeter()
    meter.connection_opened("a")
    meter.connection_opened("a")
    meter.connection_closed("a")
    meter.delivered("a", 3, 300)
    deltas = meter.flush()
    assert [(d.tenant_id, d.messages, d.bandwidth, d.peak_connections) for d in deltas] == [
        ("a", 3, 300, 2)
    ]
    meter.restore(deltas)
    meter.delivered("a", 1, 10)
    again = meter.flush()
    assert sum(d.messages for d in again) == 4 and sum(d.bandwidth for d in again) == 310
