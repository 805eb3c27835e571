"""The channel protocol without sockets: every ordering of replay and live events."""

from __future__ import annotations

import itertools

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from imagechat.realtime.frames import ControlFrame, EventFrame
from imagechat.realtime.protocol import ChannelFeed, Repair, Step, Subscription

LOG = {n: orjson.dumps({"type": "new-image-chat", "offset": n}) for n in range(1, 30)}


def frame(offset: int) -> EventFrame:
    return EventFrame.of("t", offset, LOG[offset])


def from_log(repair: Repair) -> list[EventFrame]:
    return [frame(n) for n in range(repair.after + 1, repair.upto + 1)]


def offsets_sent(steps: list[Step]) -> list[int]:
    """Offsets a client receives: replayed inside `subscribed`, then event frames."""
    seen: list[int] = []
    for step in steps:
        for sent in step.send:
            if isinstance(sent, ControlFrame):
                body = orjson.loads(sent.text)
                seen.extend(event["offset"] for event in body.get("events", []))
            else:
                seen.append(sent.offset)
    return seen


def run_subscription(since: int, top: int, before: list[int], after: list[int]) -> list[int]:
    """Subscribe at `since`; the replay reads up to `top`; live events arrive around it."""
    subscription = Subscription("t", "img")
    steps = [subscription.on_event(frame(n)) for n in before]
    replay = [LOG[n] for n in range(since + 1, top + 1)]
    steps.append(subscription.start("e", top, True, replay))
    for n in after:
        steps.append(subscription.on_event(frame(n)))
    # Answer every repair from the log, as the hub does.
    while subscription.repairing is not None:
        steps.append(subscription.on_repair(from_log(subscription.repairing)))
    return offsets_sent(steps)


def test_every_split_of_live_events_around_the_replay_gives_each_offset_once() -> None:
    newest = 6
    for since in range(newest + 1):
        for top in range(since, newest + 1):
            # The hub delivers a contiguous run of events, starting at or before top + 1.
            for first_live in range(1, top + 2):
                live = list(range(first_live, newest + 1))
                for cut in range(len(live) + 1):
                    got = run_subscription(since, top, live[:cut], live[cut:])
                    assert got == list(range(since + 1, newest + 1)), (since, top, live, cut)


def test_buffered_events_in_any_arrival_order_merge_by_offset() -> None:
    for order in itertools.permutations([4, 5, 6, 7]):
        got = run_subscription(since=1, top=3, before=list(order), after=[])
        assert got == [2, 3, 4, 5, 6, 7]


def test_a_hole_after_the_replay_is_repaired_from_the_log() -> None:
    subscription = Subscription("t", "img")
    subscription.on_event(frame(7))  # 4..6 never came through the broker
    step = subscription.start("e", 3, True, [])
    assert step.repair == Repair(3, 6)
    assert subscription.pending
    subscription.on_event(frame(8))  # buffered while the repair is read
    assert offsets_sent([subscription.on_repair(from_log(step.repair))]) == [4, 5, 6, 7, 8]
    assert not subscription.pending and subscription.offset == 8


def test_a_live_gap_asks_for_a_repair_and_a_lost_history_resets() -> None:
    subscription = Subscription("t", "img")
    subscription.start("e", 2, True, [])
    assert offsets_sent([subscription.on_event(frame(3))]) == [3]
    step = subscription.on_event(frame(6))
    assert step.repair == Repair(3, 5) and step.send == []
    reset = subscription.on_repair(None)  # the log no longer holds 4..5
    body = orjson.loads(reset.send[0].text)  # type: ignore[union-attr]
    assert body["type"] == "subscribed" and body["recovered"] is False
    assert body["offset"] == 6


def test_duplicates_at_or_below_the_offset_are_dropped() -> None:
    subscription = Subscription("t", "img")
    subscription.start("e", 5, True, [])
    assert subscription.on_event(frame(5)).send == []
    assert subscription.on_event(frame(2)).send == []
    assert offsets_sent([subscription.on_event(frame(6))]) == [6]


# --- the hub's feed ---------------------------------------------------------------------------


def run_feed(arrivals: list[int], last: int = 0, repair_late: bool = False) -> list[int]:
    """Feed broker arrivals (maybe duplicated or reordered) and answer repairs from the log."""
    feed = ChannelFeed()
    feed.observe_head("e", last)
    delivered: list[int] = []
    pending: list[Repair] = []
    for n in arrivals:
        step = feed.receive("e", frame(n))
        delivered.extend(f.offset for f in step.send)  # type: ignore[union-attr]
        if step.repair:
            pending.append(step.repair)
        if not repair_late:
            while pending:
                step = feed.repaired(from_log(pending.pop()))
                delivered.extend(f.offset for f in step.send)  # type: ignore[union-attr]
                if step.repair:
                    pending.append(step.repair)
    while pending:
        step = feed.repaired(from_log(pending.pop()))
        delivered.extend(f.offset for f in step.send)  # type: ignore[union-attr]
        if step.repair:
            pending.append(step.repair)
    return delivered


def test_feed_delivers_in_order_whatever_the_broker_does() -> None:
    for order in itertools.permutations([1, 2, 3, 4, 5]):
        assert run_feed(list(order)) == [1, 2, 3, 4, 5]
        assert run_feed(list(order), repair_late=True) == [1, 2, 3, 4, 5]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=30),
    st.booleans(),
)
def test_feed_never_duplicates_or_skips(arrivals: list[int], repair_late: bool) -> None:
    delivered = run_feed(arrivals, repair_late=repair_late)
    assert delivered == list(range(1, max(arrivals) + 1))


def test_feed_catches_a_lost_tail_from_the_head_check() -> None:
    feed = ChannelFeed()
    feed.observe_head("e", 2)
    assert feed.receive("e", frame(3)).send == [frame(3)]
    step = feed.observe_head("e", 5)  # 4 and 5 committed, their broker messages lost
    assert step.repair == Repair(3, 5)
    assert [f.offset for f in feed.repaired(from_log(step.repair)).send] == [4, 5]  # type: ignore[union-attr]
    assert feed.observe_head("e", 5).repair is None


def test_feed_resets_on_a_new_epoch_or_a_lost_range() -> None:
    feed = ChannelFeed()
    feed.observe_head("e", 3)
    assert feed.receive("other", frame(1)).reset
    assert feed.epoch == "other" and feed.last == 1
    step = feed.receive("other", frame(4))
    assert step.repair == Repair(1, 3)
    assert feed.repaired(None).reset
    assert feed.last == 4
