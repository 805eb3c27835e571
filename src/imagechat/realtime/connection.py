"""One WebSocket connection as the live layer sees it: its writer and its subscriptions."""

from __future__ import annotations

from imagechat.realtime.hub import ChannelKey, Hub
from imagechat.realtime.protocol import Subscription
from imagechat.realtime.usage import UsageMeter
from imagechat.realtime.writer import Sink, Writer

MAX_CHANNELS_PER_CONNECTION = 200


class LiveConnection:
    __slots__ = ("_hub", "_meter", "subscriptions", "writer")

    def __init__(
        self,
        sink: Sink,
        hub: Hub,
        meter: UsageMeter,
        *,
        max_batch: int,
        queue_limit: int,
    ) -> None:
        self._hub = hub
        self._meter = meter
        self.writer = Writer(sink, meter, max_batch=max_batch, queue_limit=queue_limit)
        self.subscriptions: dict[ChannelKey, Subscription] = {}

    def join(self, key: ChannelKey) -> Subscription:
        """Subscribe (again) to a channel; a repeated subscribe replaces the earlier one."""
        if not any(k[0] == key[0] for k in self.subscriptions):
            self._meter.connection_opened(key[0])
        subscription = self._hub.join(self, key)
        self.subscriptions[key] = subscription
        return subscription

    def leave(self, key: ChannelKey) -> None:
        if self.subscriptions.pop(key, None) is None:
            return
        self._hub.leave(self, key)
        if not any(k[0] == key[0] for k in self.subscriptions):
            self._meter.connection_closed(key[0])

    def leave_all(self) -> None:
        for key in list(self.subscriptions):
            self.leave(key)
