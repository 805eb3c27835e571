"""The hub: channel -> local subscribers. Each event is encoded once and the same frame is
pushed to every subscriber's writer; gaps are repaired from the event log before delivery.

A read of the log that fails (the database is down or busy) is retried with backoff for as
long as it is still wanted: only the log's own answer "those events are gone" resets viewers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from imagechat.domain.epochs import is_older
from imagechat.domain.events import EncodedEvent
from imagechat.realtime import frames as F
from imagechat.realtime.frames import EventFrame
from imagechat.realtime.protocol import ChannelFeed, Repair, Step, Subscription
from imagechat.realtime.usage import UsageMeter

if TYPE_CHECKING:
    from imagechat.realtime.connection import LiveConnection

log = logging.getLogger(__name__)

ChannelKey = tuple[str, str]
# Reads events after..upto of (tenant, urlId, epoch) from the log; None if they are gone.
RangeReader = Callable[[str, str, str, int, int], Awaitable[list[bytes] | None]]
ChannelHook = Callable[[ChannelKey], None]

RETRY_FIRST = 0.05
RETRY_MAX = 2.0
# Frames a channel may send at once, back to back, before the batching window holds its
# events: at most one per window on average, with this much slack for writes that come
# unevenly (20 writes/s arrive 50 ms apart only on average).
IMMEDIATE_FRAMES = 4


class _Stale:
    """A repair read whose answer nobody wants any more (unsubscribed, reset, replaced)."""


STALE = _Stale()


class Channel:
    __slots__ = (
        "allowance",
        "allowance_at",
        "batch",
        "feed",
        "flush_at",
        "key",
        "presence_sent",
        "remote",
        "subscribers",
    )

    def __init__(self, key: ChannelKey) -> None:
        self.key = key
        self.feed = ChannelFeed()
        self.subscribers: dict[LiveConnection, Subscription] = {}
        self.presence_sent = 0
        self.remote = 0  # viewers on the other nodes, as last read from the broker
        # Events in order, waiting for the channel's next flush (the batching window).
        self.batch: list[EventFrame] = []
        self.flush_at: asyncio.TimerHandle | None = None
        # Frames it may send at once (see Hub._schedule), as of `allowance_at`.
        self.allowance = float(IMMEDIATE_FRAMES)
        self.allowance_at = -1e9

    @property
    def viewers(self) -> int:
        return len(self.subscribers) + self.remote


def frames_from_log(
    tenant_id: str, after: int, found: list[bytes] | None
) -> list[EventFrame] | None:
    if found is None:
        return None
    return [EventFrame.of(tenant_id, after + 1 + i, data) for i, data in enumerate(found)]


class Hub:
    """Fan-out with a batching window per channel.

    A channel sends one frame per `window` on average, each built once and shared by every
    subscriber. An event goes out at once while the channel is within that pace, with slack
    for a few frames back to back (`IMMEDIATE_FRAMES`), so events that come unevenly at a
    moderate rate are not held. Beyond it, events wait and leave together as one array frame
    when the channel may send again (at most `window` later, or once `max_batch` wait).
    """

    def __init__(
        self,
        read_range: RangeReader,
        *,
        window: float = 0.0,
        max_batch: int = 100,
        meter: UsageMeter | None = None,
        on_open: ChannelHook | None = None,
        on_close: ChannelHook | None = None,
        repair_grace: float = 0.02,
    ) -> None:
        self._read_range = read_range
        self._meter = meter or UsageMeter()
        self.window = window
        self.max_batch = max(1, max_batch)
        self.channels: dict[ChannelKey, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_open = on_open
        self._on_close = on_close
        # Events of one channel come from several nodes over separate connections, so they
        # may cross on the way: a gap gets this long to close by itself before the log is read.
        self.repair_grace = repair_grace
        self.repairs = 0  # reads of the log that filled a gap or a lost tail
        self.read_errors = 0  # failed reads of the log (retried)
        self.resets = 0  # histories found gone: viewers were told to reload
        self.batch_frames = 0  # array frames built for several events (each shared by all)

    # --- membership -------------------------------------------------------------------------

    def join(self, connection: LiveConnection, key: ChannelKey) -> Subscription:
        """Register a pending subscription: live events are buffered until its replay is in."""
        channel = self.channels.get(key)
        if channel is None:
            channel = self.channels[key] = Channel(key)
            if self._on_open is not None:
                self._on_open(key)
        subscription = Subscription(*key)
        channel.subscribers[connection] = subscription
        return subscription

    def leave(self, connection: LiveConnection, key: ChannelKey) -> None:
        channel = self.channels.get(key)
        if channel is None:
            return
        channel.subscribers.pop(connection, None)
        if not channel.subscribers:
            if channel.flush_at is not None:
                channel.flush_at.cancel()
            del self.channels[key]
            if self._on_close is not None:
                self._on_close(key)

    def start(
        self,
        connection: LiveConnection,
        subscription: Subscription,
        epoch: str,
        top: int,
        recovered: bool,
        replay: list[bytes],
    ) -> None:
        """Hand a pending subscription its replay; it turns live once merged.

        The replay was read at `epoch`. If the channel has moved on to a newer history while
        it was read, the subscriber is told to reload (`recovered: false`) instead.
        """
        channel = self.channels.get((subscription.tenant_id, subscription.url_id))
        if channel is None or channel.subscribers.get(connection) is not subscription:
            return  # unsubscribed (or resubscribed) while the replay was read
        feed = channel.feed
        if feed.last is None or (
            feed.epoch is not None and epoch != feed.epoch and not is_older(epoch, feed.epoch)
        ):
            self._feed_step(channel, feed.observe_head(epoch, top))
        if feed.epoch is not None and feed.epoch != epoch:
            step = subscription.reset(feed.epoch, feed.last or 0)
        else:
            step = subscription.start(epoch, top, recovered, replay)
        self._apply(channel, connection, subscription, step)
        self._tell_presence(channel, connection, subscription)

    # --- delivery ---------------------------------------------------------------------------

    def deliver(self, event: EncodedEvent) -> None:
        """A committed event from the broker: order it, then fan it out."""
        channel = self.channels.get((event.tenant_id, event.url_id))
        if channel is None:
            return
        frame = EventFrame.of(event.tenant_id, event.offset, event.data)
        self._feed_step(channel, channel.feed.receive(event.epoch, frame))

    def observe_head(self, key: ChannelKey, epoch: str, top: int) -> None:
        channel = self.channels.get(key)
        if channel is not None:
            self._feed_step(channel, channel.feed.observe_head(epoch, top))

    def _feed_step(self, channel: Channel, step: Step) -> None:
        if step.reset:
            self.resets += 1
            channel.batch = []  # events of a broken history: everyone reloads instead
            feed = channel.feed
            viewers = channel.viewers
            presence = F.presence(channel.key[0], channel.key[1], viewers)  # once for all
            for connection, subscription in list(channel.subscribers.items()):
                if not subscription.started:
                    continue  # its replay is being read: `start` compares its epoch
                step = subscription.reset(feed.epoch or "", feed.last or 0)
                self._apply(channel, connection, subscription, step)
                # Every `subscribed` is followed by the count, a reset's too.
                subscription.viewers = viewers
                connection.writer.push(presence)
            return
        if step.send:
            for frame in step.send:
                assert isinstance(frame, EventFrame)
                channel.batch.append(frame)
            self._schedule(channel)
        if step.repair is not None:
            self._spawn(self._repair_feed(channel, step.repair))

    def _schedule(self, channel: Channel) -> None:
        if len(channel.batch) >= self.max_batch:
            self._flush(channel)
            return
        if channel.flush_at is not None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        allowance = self._allowance(channel, now)
        if allowance >= 1:
            self._flush(channel)  # within the pace: no reason to wait
        else:
            # Until the channel may send again: at most one window.
            channel.flush_at = loop.call_at(
                now + (1 - allowance) * self.window, self._flush, channel
            )

    def _allowance(self, channel: Channel, now: float) -> float:
        """Frames the channel may send now: one more per window since its last, up to a few."""
        if self.window <= 0:
            return float(IMMEDIATE_FRAMES)
        earned = (now - channel.allowance_at) / self.window
        return min(float(IMMEDIATE_FRAMES), channel.allowance + earned)

    def _flush(self, channel: Channel) -> None:
        if channel.flush_at is not None:
            channel.flush_at.cancel()
            channel.flush_at = None
        events, channel.batch = channel.batch, []
        if not events:
            return
        loop = asyncio.get_running_loop()
        allowance = self._allowance(channel, loop.time())
        if len(events) == 1:
            shared: F.Events = events[0]
        else:
            shared = F.EventBatch.of(events)
            self.batch_frames += 1
        first, last = events[0].offset, events[-1].offset
        sent = 0
        for connection, subscription in channel.subscribers.items():
            # The hot path: a live subscriber right behind takes the shared frame as is.
            if not subscription.pending and subscription.offset + 1 == first:
                subscription.offset = last
                if connection.writer.offer(shared):
                    sent += 1  # a queued one is counted by its writer once actually sent
            else:
                for frame in events:
                    self._apply(channel, connection, subscription, subscription.on_event(frame))
        if sent:
            self._meter.delivered(shared.tenant_id, sent * len(events), sent * shared.nbytes)
        # The pace counts from the end of the fan-out: when fanning out takes longer than the
        # window (thousands of viewers), what arrived meanwhile still leaves as one batch.
        channel.allowance = max(0.0, allowance - 1)
        channel.allowance_at = loop.time()

    def _apply(
        self, channel: Channel, connection: LiveConnection, subscription: Subscription, step: Step
    ) -> None:
        for frame in step.send:
            connection.writer.push(frame)
        if step.repair is not None:
            self._spawn(self._repair_subscription(channel, connection, subscription, step.repair))

    # --- repairs from the log -----------------------------------------------------------------

    async def _repair_feed(self, channel: Channel, repair: Repair) -> None:
        feed = channel.feed

        def wanted() -> bool:
            return self.channels.get(channel.key) is channel and feed.repairing is repair

        if self.repair_grace > 0:
            await asyncio.sleep(self.repair_grace)
            if not wanted():
                return
        after = max(repair.after, feed.last or 0)
        found: list[EventFrame] | _Stale | None = []
        if after < repair.upto:  # else what was missing came by itself meanwhile
            found = await self._read(
                channel.key, feed.epoch or "", Repair(after, repair.upto), wanted
            )
            self.repairs += 1
        if not isinstance(found, _Stale) and wanted():
            self._feed_step(channel, feed.repaired(found))

    async def _repair_subscription(
        self,
        channel: Channel,
        connection: LiveConnection,
        subscription: Subscription,
        repair: Repair,
    ) -> None:
        def wanted() -> bool:
            return (
                channel.subscribers.get(connection) is subscription
                and subscription.repairing is repair
            )

        found = await self._read(channel.key, subscription.epoch, repair, wanted)
        self.repairs += 1
        if not isinstance(found, _Stale) and wanted():
            self._apply(channel, connection, subscription, subscription.on_repair(found))

    async def _read(
        self, key: ChannelKey, epoch: str, repair: Repair, wanted: Callable[[], bool]
    ) -> list[EventFrame] | _Stale | None:
        """The events of `repair` from the log, retrying failures while they are `wanted`."""
        delay = RETRY_FIRST
        while True:
            try:
                found = await self._read_range(key[0], key[1], epoch, repair.after, repair.upto)
            except Exception as error:
                self.read_errors += 1
                log.warning(
                    "reading events %s..%s of %s failed (retrying in %.2f s): %r",
                    repair.after,
                    repair.upto,
                    key,
                    delay,
                    error,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                if not wanted():
                    return STALE
                continue
            return frames_from_log(key[0], repair.after, found)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- presence -----------------------------------------------------------------------------

    def local_viewers(self) -> dict[ChannelKey, int]:
        """Connections viewing each channel on this node."""
        return {key: len(channel.subscribers) for key, channel in self.channels.items()}

    def presence_tick(self, remote: dict[ChannelKey, int] | None = None) -> None:
        """Tell each channel's viewers their count, when it changed since the last time.

        `remote` holds the viewers on the other nodes, when a shared broker knows them.
        """
        for key, channel in self.channels.items():
            if remote is not None:
                channel.remote = remote.get(key, 0)
            viewers = channel.viewers
            if viewers == channel.presence_sent:
                continue
            channel.presence_sent = viewers
            frame = F.presence(key[0], key[1], viewers)
            for connection, subscription in channel.subscribers.items():
                # A newcomer got the count right after its `subscribed`: not twice.
                if subscription.started and subscription.viewers != viewers:
                    subscription.viewers = viewers
                    connection.writer.push(frame)

    def _tell_presence(
        self, channel: Channel, connection: LiveConnection, subscription: Subscription
    ) -> None:
        """The count that follows each `subscribed` (the others hear of a change next tick)."""
        viewers = channel.viewers
        if subscription.viewers != viewers:
            subscription.viewers = viewers
            connection.writer.push(F.presence(channel.key[0], channel.key[1], viewers))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
