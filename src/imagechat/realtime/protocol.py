"""The channel protocol, sans I/O: events in, frames and repair requests out.

Two state machines keep every subscriber's stream exactly-once and in offset order:

- `ChannelFeed` (one per channel per node) orders what the broker hands over: it drops
  duplicates and, on a gap (a lost broker message), holds later events and asks for the missing
  range from the event log.
- `Subscription` (one per connection per channel) buffers live events while its replay is read
  (`pending`), then merges replay and buffer by offset, so nothing is lost or doubled in the
  handover from replay to live.

Both answer with a `Step`: frames to send now and, when they meet a gap, the range to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagechat.domain.epochs import is_older
from imagechat.realtime import frames as F
from imagechat.realtime.frames import EventFrame


@dataclass(frozen=True, slots=True)
class Repair:
    """Read the events after `after` up to `upto` (inclusive) from the log and hand them back."""

    after: int
    upto: int


@dataclass(slots=True)
class Step:
    send: list[F.Frame] = field(default_factory=list)
    repair: Repair | None = None
    reset: bool = False  # the history broke (epoch change, trimmed log): resubscribe everyone


def _drain(held: dict[int, EventFrame], last: int, out: list[F.Frame]) -> int:
    """Move held events that now follow `last` without a hole into `out`; the new last."""
    while last + 1 in held:
        last += 1
        out.append(held.pop(last))
    for offset in [o for o in held if o <= last]:
        del held[offset]
    return last


class ChannelFeed:
    """Orders one channel's events: duplicates dropped, gaps repaired from the log.

    Until a head read (the first subscriber's) gives it a base offset, it holds what arrives:
    it cannot tell a gap from a start. Epochs are ordered: a message or head read of an older
    epoch is a late one and ignored; a newer epoch means the history changed (reset).
    """

    __slots__ = ("epoch", "held", "last", "repairing")

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.last: int | None = None
        self.held: dict[int, EventFrame] = {}
        self.repairing: Repair | None = None

    def receive(self, epoch: str, frame: EventFrame) -> Step:
        if self.epoch is not None and epoch != self.epoch:
            if is_older(epoch, self.epoch):
                return Step()
            self._restart(epoch, frame.offset)
            return Step(reset=True)
        self.epoch = epoch
        if self.last is None:
            self.held[frame.offset] = frame
            return Step()
        if frame.offset <= self.last:
            return Step()
        if frame.offset > self.last + 1:
            self.held[frame.offset] = frame
            return Step(repair=self._ask())
        # The next one is taken even while a repair is read: it may have come by another path.
        out: list[F.Frame] = [frame]
        self.last = _drain(self.held, frame.offset, out)
        return Step(out, repair=self._ask())

    def observe_head(self, epoch: str, top: int) -> Step:
        """The log's head as read from the database: a base, a lost tail, or a new epoch."""
        if self.epoch is not None and epoch != self.epoch:
            if is_older(epoch, self.epoch):
                return Step()
            self._restart(epoch, top)
            return Step(reset=True)
        self.epoch = epoch
        if self.last is None:
            out: list[F.Frame] = []
            self.last = _drain(self.held, top, out)
            return Step(out, repair=self._ask())
        if top > self.last and self.repairing is None:
            self.repairing = Repair(self.last, top)
            return Step(repair=self.repairing)
        return Step()

    def repaired(self, found: list[EventFrame] | None) -> Step:
        """The log's answer to `repairing`; None only when those events are gone from it."""
        wanted, self.repairing = self.repairing, None
        if wanted is None or self.last is None:
            return Step()
        if found is None:
            newest = max([wanted.upto, self.last, *self.held])
            self._restart(self.epoch or "", newest)
            return Step(reset=True)
        out: list[F.Frame] = []
        for frame in found:
            if frame.offset == self.last + 1:
                out.append(frame)
                self.last = frame.offset
        self.last = _drain(self.held, self.last, out)
        return Step(out, repair=self._ask())

    def _ask(self) -> Repair | None:
        if self.repairing is None and self.held and self.last is not None:
            self.repairing = Repair(self.last, min(self.held) - 1)
            return self.repairing
        return None

    def _restart(self, epoch: str, offset: int) -> None:
        self.epoch, self.last, self.held, self.repairing = epoch, offset, {}, None


class Subscription:
    """One connection's view of one channel: pending while its replay is read, then live."""

    __slots__ = (
        "buffer",
        "epoch",
        "offset",
        "pending",
        "repairing",
        "started",
        "tenant_id",
        "url_id",
        "viewers",
    )

    def __init__(self, tenant_id: str, url_id: str) -> None:
        self.tenant_id = tenant_id
        self.url_id = url_id
        self.pending = True
        self.buffer: dict[int, EventFrame] = {}
        self.epoch = ""
        self.offset = 0
        self.repairing: Repair | None = None
        self.started = False  # `subscribed` was sent
        self.viewers = -1  # the presence count it was last told

    def start(self, epoch: str, top: int, recovered: bool, replay: list[bytes]) -> Step:
        """The replay was read up to `top`: answer `subscribed`, then what arrived meanwhile."""
        self.epoch, self.offset, self.started = epoch, top, True
        out: list[F.Frame] = [
            F.subscribed(self.tenant_id, self.url_id, epoch, top, recovered, replay)
        ]
        return self._continue(out)

    def on_event(self, frame: EventFrame) -> Step:
        if self.pending:
            self.buffer[frame.offset] = frame
            return Step()
        if frame.offset <= self.offset:
            return Step()
        if frame.offset == self.offset + 1:
            self.offset = frame.offset
            return Step([frame])
        self.buffer[frame.offset] = frame
        return self._continue([])

    def on_repair(self, found: list[EventFrame] | None) -> Step:
        self.repairing = None
        if found is None:
            return self.reset(self.epoch, max([self.offset, *self.buffer]))
        out: list[F.Frame] = []
        for frame in found:
            if frame.offset == self.offset + 1:
                out.append(frame)
                self.offset = frame.offset
        return self._continue(out)

    def reset(self, epoch: str, offset: int) -> Step:
        """The history this subscriber follows is gone: tell it to reload its snapshot."""
        self.epoch, self.offset, self.buffer, self.pending = epoch, offset, {}, False
        self.repairing, self.started = None, True
        frame = F.subscribed(self.tenant_id, self.url_id, epoch, offset, False, [])
        return Step([frame])

    def _continue(self, out: list[F.Frame]) -> Step:
        self.offset = _drain(self.buffer, self.offset, out)
        if self.buffer:
            self.pending = True
            self.repairing = Repair(self.offset, min(self.buffer) - 1)
            return Step(out, repair=self.repairing)
        self.pending = False
        return Step(out)
