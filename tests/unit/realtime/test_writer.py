"""The per-connection writer: immediate sends, coalescing, bounds, stopping a stuck send."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from imagechat.realtime import frames
from imagechat.realtime.frames import EventFrame
from imagechat.realtime.usage import UsageMeter
from imagechat.realtime.writer import SLOW_CONSUMER, Writer, WriterClosed


def event(offset: int, tenant: str = "t") -> EventFrame:
    return EventFrame.of(tenant, offset, orjson.dumps({"type": "new-image-chat",
                                                       "offset": offset}))


class Peer:
    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.delay = delay
        self.block = asyncio.Event()
        self.block.set()

    async def send_event(self, frame: EventFrame) -> None:
        await self._send(frame.message)

    async def send_payload(self, payload: bytes) -> None:
        await self._send({"type": "websocket.send", "text": payload.decode()})

    async def _send(self, message: dict[str, Any]) -> None:
        await self.block.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append(message)

    def texts(self) -> list[Any]:
        return [orjson.loads(m["text"]) for m in self.sent]


async def test_an_idle_writer_sends_at_once_and_the_same_message_object() -> None:
    peer, meter = Peer(), UsageMeter()
    writer = Writer(peer, meter)
    task = asyncio.create_task(writer.run())
    shared = event(1)
    writer.push(shared)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert peer.sent == [shared.message]
    assert peer.sent[0] is shared.message  # encode once: no copy per connection
    task.cancel()


async def test_events_queued_while_busy_leave_as_one_array_frame() -> None:
    peer, meter = Peer(delay=0.01), UsageMeter()
    writer = Writer(peer, meter, max_batch=4)
    task = asyncio.create_task(writer.run())
    for n in range(1, 11):
        writer.push(event(n))
    for _ in range(100):
        if len(peer.sent) == 3:
            break
        await asyncio.sleep(0.01)
    bodies = peer.texts()
    assert [len(b) if isinstance(b, list) else 1 for b in bodies] == [4, 4, 2]
    flat = [e["offset"] for b in bodies for e in b]
    assert flat == list(range(1, 11))
    day = meter.flush()[0]
    assert day.messages == 10
    assert day.bandwidth == sum(len(m["text"].encode()) for m in peer.sent)
    task.cancel()


async def test_control_frames_are_never_mixed_into_a_batch() -> None:
    peer = Peer(delay=0.01)
    writer = Writer(peer, UsageMeter())
    task = asyncio.create_task(writer.run())
    writer.push(event(1))
    writer.push(event(2))
    writer.push(frames.PONG)
    writer.push(event(3))
    await asyncio.sleep(0.1)
    kinds = [b["type"] if isinstance(b, dict) else [i["offset"] for i in b] for b in peer.texts()]
    assert kinds == [[1, 2], "pong", "new-image-chat"]
    task.cancel()


async def test_overflow_stops_a_stuck_writer_with_4008() -> None:
    peer = Peer()
    peer.block.clear()  # the peer stopped reading: sends never complete
    writer = Writer(peer, UsageMeter(), queue_limit=5)
    task = asyncio.create_task(writer.run())
    for n in range(1, 10):
        writer.push(event(n))
        await asyncio.sleep(0)
    with pytest.raises(WriterClosed) as stopped:
        await asyncio.wait_for(task, 1)
    assert stopped.value.code == SLOW_CONSUMER
    assert writer.queued == 0  # the queue is released at once


async def test_a_window_gathers_a_burst_after_a_recent_send() -> None:
    peer = Peer()
    writer = Writer(peer, UsageMeter(), window=0.05)
    task = asyncio.create_task(writer.run())
    writer.push(event(1))
    await asyncio.sleep(0.001)
    for n in range(2, 6):
        writer.push(event(n))
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.1)
    assert len(peer.sent) == 2 and isinstance(peer.texts()[1], list)
    task.cancel()


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
