"""The hub's batching window: a lone event at once, a burst as one shared array frame."""

from __future__ import annotations

import asyncio

import orjson

from imagechat.domain.events import EncodedEvent
from imagechat.realtime.frames import ControlFrame, EventBatch, EventFrame, Frame
from imagechat.realtime.hub import Hub


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


async def test_a_burst_is_one_shared_frame_and_a_lone_event_goes_at_once() -> None:
    hub = Hub(never, window=0.05, max_batch=100)
    viewers = [FakeConnection() for _ in range(3)]
    for viewer in viewers:
        subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
        hub.start(viewer, subscription, "e", 0, True, [])  # type: ignore[arg-type]
    hub.deliver(encoded(1))  # quiet channel: out at once
    for viewer in viewers:
        assert [type(i) for i in viewer.writer.items] == [EventFrame]
    for offset in range(2, 7):
        hub.deliver(encoded(offset))
    assert all(len(v.writer.items) == 1 for v in viewers), "held for the window"
    await asyncio.sleep(0.08)
    batches = [v.writer.items[1] for v in viewers]
    assert isinstance(batches[0], EventBatch)
    assert all(b is batches[0] for b in batches), "one frame built once, shared"
    assert [e["offset"] for e in orjson.loads(batches[0].data)] == [2, 3, 4, 5, 6]
    await asyncio.sleep(0.08)
    hub.deliver(encoded(7))  # quiet again: no waiting
    assert all(isinstance(v.writer.items[-1], EventFrame) for v in viewers)
    # Each viewer got `subscribed`, event 1, the batch 2..6 and event 7: nothing twice.
    assert all(len(v.writer.items) == 3 for v in viewers)


async def test_max_batch_flushes_before_the_window_ends() -> None:
    hub = Hub(never, window=10.0, max_batch=3)
    viewer = FakeConnection()
    subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
    hub.start(viewer, subscription, "e", 0, True, [])  # type: ignore[arg-type]
    for offset in range(1, 5):
        hub.deliver(encoded(offset))
    sent = viewer.writer.items
    assert isinstance(sent[0], EventFrame) and isinstance(sent[1], EventBatch)
    assert [e.offset for e in sent[1].events] == [2, 3, 4]
