"""The holes found in review of the repair path, each closed: epochs across a replay, late
old-epoch messages and head reads, and database errors while repairing."""

from __future__ import annotations

import asyncio

import orjson

from imagechat.domain.epochs import new_epoch
from imagechat.domain.events import EncodedEvent
from imagechat.realtime.frames import EventBatch, Frame
from imagechat.realtime.hub import Hub

OLD = new_epoch()
NEW = new_epoch(after=OLD)


class Viewer:
    """A connection as the hub sees it: everything it is sent, decoded."""

    def __init__(self) -> None:
        self.writer = self
        self.sent: list[dict] = []

    def push(self, item: Frame) -> None:
        self.offer(item)

    def offer(self, item: Frame) -> bool:
        if isinstance(item, EventBatch):
            self.sent.extend(orjson.loads(item.data))
        else:
            self.sent.append(orjson.loads(item.data))
        return True

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.sent if m["type"] == kind]

    def offsets(self) -> list[int]:
        return [m["offset"] for m in self.sent if m["type"] == "new-image-chat"]


def event(epoch: str, offset: int) -> EncodedEvent:
    data = orjson.dumps({"type": "new-image-chat", "epoch": epoch, "offset": offset})
    return EncodedEvent("t", "img", epoch, offset, data)


def log_of(epoch: str) -> dict[int, bytes]:
    return {n: event(epoch, n).data for n in range(1, 50)}


async def test_a_replay_of_an_epoch_the_channel_left_answers_recovered_false_once() -> None:
    hub = Hub(_reader(log_of(NEW)), repair_grace=0)
    first, late = Viewer(), Viewer()
    subscription = hub.join(first, ("t", "img"))  # type: ignore[arg-type]
    hub.start(first, subscription, OLD, 3, True, [])  # type: ignore[arg-type]
    pending = hub.join(late, ("t", "img"))  # type: ignore[arg-type]
    # The channel is reset (a restore) while `late`'s replay of the old history is read.
    hub.deliver(event(NEW, 1))
    hub.start(late, pending, OLD, 3, True, [event(OLD, n).data for n in (2, 3)])  # type: ignore[arg-type]
    hub.deliver(event(NEW, 2))
    for viewer in (first, late):
        answers = viewer.of_type("subscribed")
        assert len(answers) == 2 if viewer is first else len(answers) == 1
        assert answers[-1]["recovered"] is False and answers[-1]["epoch"] == NEW
        assert answers[-1]["events"] == []
        assert viewer.offsets() == [2]  # the new history goes on, nothing is dropped silently
    # And presence follows each `subscribed`.
    assert [m["type"] for m in late.sent[:2]] == ["subscribed", "presence"]


async def test_a_late_old_epoch_message_or_head_read_is_ignored() -> None:
    hub = Hub(_reader(log_of(NEW)), repair_grace=0)
    viewer = Viewer()
    subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
    hub.start(viewer, subscription, NEW, 0, True, [])  # type: ignore[arg-type]
    hub.deliver(event(NEW, 1))
    hub.deliver(event(OLD, 7))  # a message of the replaced history, arriving late
    hub.observe_head(("t", "img"), OLD, 9)  # a head read that started before the reset
    hub.deliver(event(NEW, 2))
    assert viewer.offsets() == [1, 2]
    assert len(viewer.of_type("subscribed")) == 1
    assert hub.resets == 0


async def test_a_newer_epoch_in_a_head_read_resets_viewers() -> None:
    hub = Hub(_reader(log_of(NEW)), repair_grace=0)
    viewer = Viewer()
    subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
    hub.start(viewer, subscription, OLD, 4, True, [])  # type: ignore[arg-type]
    hub.observe_head(("t", "img"), NEW, 0)
    reset = viewer.of_type("subscribed")[-1]
    assert reset["recovered"] is False and reset["epoch"] == NEW


async def test_a_database_error_while_repairing_is_retried_and_never_resets() -> None:
    failures = 3
    reads = 0
    log = log_of(NEW)

    async def flaky(
        tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        nonlocal reads
        reads += 1
        if reads <= failures:
            raise ConnectionError("the database went away")
        return [log[n] for n in range(after + 1, upto + 1)]

    hub = Hub(flaky, repair_grace=0)
    viewer = Viewer()
    subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
    hub.start(viewer, subscription, NEW, 0, True, [])  # type: ignore[arg-type]
    hub.deliver(event(NEW, 1))
    hub.deliver(event(NEW, 4))  # 2 and 3 were lost by the broker
    for _ in range(200):
        if viewer.offsets() == [1, 2, 3, 4]:
            break
        await asyncio.sleep(0.02)
    assert viewer.offsets() == [1, 2, 3, 4]
    assert len(viewer.of_type("subscribed")) == 1, "a failed read was taken for lost history"
    assert hub.read_errors == failures and hub.resets == 0


async def test_a_gap_that_closes_by_itself_within_the_grace_reads_nothing() -> None:
    async def never(*_: object) -> list[bytes] | None:
        raise AssertionError("the log was read for events that were on their way")

    hub = Hub(never, repair_grace=0.05)
    viewer = Viewer()
    subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
    hub.start(viewer, subscription, NEW, 0, True, [])  # type: ignore[arg-type]
    hub.deliver(event(NEW, 2))  # crossed event 1 on the way
    hub.deliver(event(NEW, 1))
    await asyncio.sleep(0.1)
    assert viewer.offsets() == [1, 2] and hub.repairs == 0


def _reader(log: dict[int, bytes]):  # type: ignore[no-untyped-def]
    async def read(
        tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        return [log[n] for n in range(after + 1, upto + 1)]

    return read


async def test_a_reset_tells_every_viewer_to_reload_then_the_count_encoded_once() -> None:
    hub = Hub(_reader(log_of(NEW)), repair_grace=0)
    pushed: list[Frame] = []
    viewers = [Viewer() for _ in range(3)]
    for viewer in viewers:
        subscription = hub.join(viewer, ("t", "img"))  # type: ignore[arg-type]
        hub.start(viewer, subscription, OLD, 4, True, [])  # type: ignore[arg-type]
        original = viewer.push

        def keep(item: Frame, original: object = original) -> None:
            pushed.append(item)
            original(item)  # type: ignore[operator]

        viewer.push = keep  # type: ignore[method-assign]
    hub.observe_head(("t", "img"), NEW, 0)  # a restore: the history is gone
    for viewer in viewers:
        assert [m["type"] for m in viewer.sent[-2:]] == ["subscribed", "presence"]
        assert viewer.sent[-2]["recovered"] is False and viewer.sent[-2]["epoch"] == NEW
        assert viewer.sent[-1]["viewers"] == 3
    presence = [item for item in pushed if orjson.loads(item.data)["type"] == "presence"]
    assert len(presence) == 3 and all(item is presence[0] for item in presence)
