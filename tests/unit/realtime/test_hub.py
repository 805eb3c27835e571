"""The hub's batching window: a lone event at once, a burst as one shared array frame."""

from __future__ import annotations

import asyncio

import orjson

from imagechat.domain.events import EncodedEvent
from imagechat.realtime.frames import ControlFrame, EventBatch, EventFrame, Frame
from imagechat.realtime.hub import IMMEDIATE_FRAMES, Hub


class FakeWriter:
    """Keeps what the hub sends, less the `subscribed` and `presence` that open a channel."""

    def __init__(self) -> None:
        self.items: list[Frame] = []
        self.control: list[Frame] = []

    def push(self, item: Frame) -> None:
        (self.control if isinstance(item, ControlFrame) else self.items).append(item)

    def offer(self, item: Frame) -> bool:
        self.items.append(item)
        return True


class FakeConnection:
    def __init__(self) -> None:
        self.writer = FakeWriter()


def encoded(offset: int) -> EncodedEvent:
    data = orjson.dumps({"type": "new-image-chat", "offset": offset})
    return EncodedEvent("t", "img", "e", offset, data)


async def never(*_: object) -> list[bytes] | None:
    raise AssertionError("no repair expected")


def _viewers(hub: Hub, count: int) -> list[FakeConnection]:
    viewers = [FakeConnection() for _ in range(count)]
    for viewer in viewers:
        subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
        hub.start(viewer, subscription, "e", 0, True, [])  # type: ignore[arg-type]
    return viewers


async def test_a_burst_is_one_shared_frame_and_a_lone_event_goes_at_once() -> None:
    hub = Hub(never, window=0.05, max_batch=100)
    viewers = _viewers(hub, 3)
    # A quiet channel sends at once, a few frames back to back...
    for offset in range(1, IMMEDIATE_FRAMES + 1):
        hub.deliver(encoded(offset))
    for viewer in viewers:
        assert [type(i) for i in viewer.writer.items] == [EventFrame] * IMMEDIATE_FRAMES
    # ...and then holds what follows for the window.
    burst = range(IMMEDIATE_FRAMES + 1, IMMEDIATE_FRAMES + 6)
    for offset in burst:
        hub.deliver(encoded(offset))
    assert all(len(v.writer.items) == IMMEDIATE_FRAMES for v in viewers), "held for the window"
    await asyncio.sleep(0.08)
    batches = [v.writer.items[IMMEDIATE_FRAMES] for v in viewers]
    assert isinstance(batches[0], EventBatch)
    assert all(b is batches[0] for b in batches), "one frame built once, shared"
    assert [e["offset"] for e in orjson.loads(batches[0].data)] == list(burst)
    await asyncio.sleep(0.05 * (IMMEDIATE_FRAMES + 1))
    hub.deliver(encoded(burst[-1] + 1))  # quiet again: no waiting
    assert all(isinstance(v.writer.items[-1], EventFrame) for v in viewers)
    # Each viewer got every event once: the lone ones, the batch, the last one.
    assert all(len(v.writer.items) == IMMEDIATE_FRAMES + 2 for v in viewers)


async def test_events_at_the_windows_pace_are_not_held_when_they_come_unevenly() -> None:
    """One event per window on average, at uneven intervals (as writes come): each one goes
    out as it comes, none waits for a window."""
    window = 0.2
    hub = Hub(never, window=window, max_batch=100)
    [viewer] = _viewers(hub, 1)
    for offset in range(1, 13):
        hub.deliver(encoded(offset))
        assert len(viewer.writer.items) == offset, f"event {offset} was held"
        await asyncio.sleep(window * (0.2 if offset % 2 else 1.8))
    assert all(isinstance(item, EventFrame) for item in viewer.writer.items)


async def test_max_batch_flushes_before_the_window_ends() -> None:
    hub = Hub(never, window=10.0, max_batch=3)
    [viewer] = _viewers(hub, 1)
    for offset in range(1, IMMEDIATE_FRAMES + 4):
        hub.deliver(encoded(offset))
    sent = viewer.writer.items
    assert [type(item) for item in sent] == [EventFrame] * IMMEDIATE_FRAMES + [EventBatch]
    assert [e.offset for e in sent[-1].events] == list(
        range(IMMEDIATE_FRAMES + 1, IMMEDIATE_FRAMES + 4)
    )
