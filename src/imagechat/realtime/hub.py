"""The hub: channel -> local subscribers. Each event is encoded once and the same frame is
pushed to every subscriber's writer; gaps are repaired from the event log before delivery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

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


class Channel:
    __slots__ = ("batch", "feed", "flush_at", "key", "last_flush", "presence_sent", "subscribers")

    def __init__(self, key: ChannelKey) -> None:
        self.key = key
        self.feed = ChannelFeed()
        self.subscribers: dict[LiveConnection, Subscription] = {}
        self.presence_sent = 0
        # Events in order, waiting for the channel's next flush (the batching window).
        self.batch: list[EventFrame] = []
        self.flush_at: asyncio.TimerHandle | None = None
        self.last_flush = -1e9


def frames_from_log(
    tenant_id: str, after: int, found: list[bytes] | None
) -> list[EventFrame] | None:
    if found is None:
        return None
    return [EventFrame.of(tenant_id, after + 1 + i, data) for i, data in enumerate(found)]


class Hub:
    """Fan-out with a batching window per channel.

    An event on a channel that flushed more than `window` seconds ago goes out at once. Events
    that follow within the window are gathered and leave together when it closes (or when
    `max_batch` are waiting) as one array frame, built once and shared by every subscriber.
    """

    def __init__(
        self,
        read_range: RangeReader,
        *,
        window: float = 0.0,
        max_batch: int = 100,
        meter: UsageMeter | None = None,
    ) -> None:
        self._read_range = read_range
        self._meter = meter or UsageMeter()
        self.window = window
        self.max_batch = max(1, max_batch)
        self.channels: dict[ChannelKey, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- membership -------------------------------------------------------------------------

    def join(self, connection: LiveConnection, key: ChannelKey) -> Subscription:
        """Register a pending subscription: live events are buffered until its replay is in."""
        channel = self.channels.get(key)
        if channel is None:
            channel = self.channels[key] = Channel(key)
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

    def start(
        self,
        connection: LiveConnection,
        subscription: Subscription,
        epoch: str,
        top: int,
        recovered: bool,
        replay: list[bytes],
    ) -> None:
        """Hand a pending subscription its replay; it turns live once merged."""
        channel = self.channels.get((subscription.tenant_id, subscription.url_id))
        if channel is None or channel.subscribers.get(connection) is not subscription:
            return  # unsubscribed (or resubscribed) while the replay was read
        if channel.feed.last is None and channel.feed.epoch is None:
            channel.feed.observe_head(epoch, top)
        self._apply(
            channel, connection, subscription, subscription.start(epoch, top, recovered, replay)
        )

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
            channel.batch = []  # events of a broken history: everyone reloads instead
            feed = channel.feed
            for connection, subscription in list(channel.subscribers.items()):
                self._apply(
                    channel,
                    connection,
                    subscription,
                    subscription.reset(feed.epoch or "", feed.last or 0),
                )
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
        due = channel.last_flush + self.window
        if due <= loop.time():
            self._flush(channel)  # quiet lately: no reason to wait
        else:
            channel.flush_at = loop.call_at(due, self._flush, channel)

    def _flush(self, channel: Channel) -> None:
        if channel.flush_at is not None:
            channel.flush_at.cancel()
            channel.flush_at = None
        events, channel.batch = channel.batch, []
        if not events:
            return
        shared: F.Events = events[0] if len(events) == 1 else F.EventBatch.of(events)
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
        # The window runs from the end of the fan-out: when fanning out takes longer than the
        # window (thousands of viewers), what arrived meanwhile still leaves as one batch.
        channel.last_flush = asyncio.get_running_loop().time()

    def _apply(
        self, channel: Channel, connection: LiveConnection, subscription: Subscription, step: Step
    ) -> None:
        for frame in step.send:
            connection.writer.push(frame)
        if step.repair is not None:
            self._spawn(self._repair_subscription(channel, connection, subscription, step.repair))

    # --- repairs from the log -----------------------------------------------------------------

    async def _repair_feed(self, channel: Channel, repair: Repair) -> None:
        found = await self._read(channel.key, channel.feed.epoch or "", repair)
        if self.channels.get(channel.key) is channel:
            self._feed_step(channel, channel.feed.repaired(found))

    async def _repair_subscription(
        self,
        channel: Channel,
        connection: LiveConnection,
        subscription: Subscription,
        repair: Repair,
    ) -> None:
        found = await self._read(channel.key, subscription.epoch, repair)
        if channel.subscribers.get(connection) is subscription:
            self._apply(channel, connection, subscription, subscription.on_repair(found))

    async def _read(self, key: ChannelKey, epoch: str, repair: Repair) -> list[EventFrame] | None:
        try:
            found = await self._read_range(key[0], key[1], epoch, repair.after, repair.upto)
        except Exception:
            log.exception("reading events %s..%s of %s failed", repair.after, repair.upto, key)
            found = None
        return frames_from_log(key[0], repair.after, found)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- presence -----------------------------------------------------------------------------

    def presence_tick(self) -> None:
        """Tell each channel's viewers their count, when it changed since the last time."""
        for channel in self.channels.values():
            viewers = len(channel.subscribers)
            if viewers == channel.presence_sent:
                continue
            if any(s.pending for s in channel.subscribers.values()):
                continue  # a newcomer's `subscribed` comes first; it gets the count next tick
            channel.presence_sent = viewers
            frame = F.presence(channel.key[0], channel.key[1], viewers)
            for connection in channel.subscribers:
                connection.writer.push(frame)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
