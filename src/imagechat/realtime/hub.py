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

if TYPE_CHECKING:
    from imagechat.realtime.connection import LiveConnection

log = logging.getLogger(__name__)

ChannelKey = tuple[str, str]
# Reads events after..upto of (tenant, urlId, epoch) from the log; None if they are gone.
RangeReader = Callable[[str, str, str, int, int], Awaitable[list[bytes] | None]]


class Channel:
    __slots__ = ("feed", "key", "presence_sent", "subscribers")

    def __init__(self, key: ChannelKey) -> None:
        self.key = key
        self.feed = ChannelFeed()
        self.subscribers: dict[LiveConnection, Subscription] = {}
        self.presence_sent = 0


def frames_from_log(
    tenant_id: str, after: int, found: list[bytes] | None
) -> list[EventFrame] | None:
    if found is None:
        return None
    return [EventFrame.of(tenant_id, after + 1 + i, data) for i, data in enumerate(found)]


class Hub:
    def __init__(self, read_range: RangeReader) -> None:
        self._read_range = read_range
        self.channels: dict[ChannelKey, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries = 0

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
            feed = channel.feed
            for connection, subscription in list(channel.subscribers.items()):
                self._apply(
                    channel,
                    connection,
                    subscription,
                    subscription.reset(feed.epoch or "", feed.last or 0),
                )
            return
        for frame in step.send:
            assert isinstance(frame, EventFrame)
            self._fan_out(channel, frame)
        if step.repair is not None:
            self._spawn(self._repair_feed(channel, step.repair))

    def _fan_out(self, channel: Channel, frame: EventFrame) -> None:
        offset = frame.offset
        count = 0
        for connection, subscription in channel.subscribers.items():
            # The hot path: a live subscriber one behind takes the shared frame as is.
            if not subscription.pending and subscription.offset + 1 == offset:
                subscription.offset = offset
                connection.writer.push(frame)
                count += 1
            else:
                self._apply(channel, connection, subscription, subscription.on_event(frame))
        self.deliveries += count

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
