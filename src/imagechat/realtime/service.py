"""The live layer assembled: broker -> hub -> writers, with presence, usage and upkeep.

A committed event goes to this node's hub at once and, through the broker's outbox, to the
other nodes; the hub drops whichever copy comes second. The head check reads every followed
channel's head from the database periodically and whenever the broker (re)connects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from imagechat.domain.events import EncodedEvent
from imagechat.domain.usage import UsageDelta
from imagechat.realtime.broker import Broker, Health
from imagechat.realtime.connection import LiveConnection
from imagechat.realtime.hub import ChannelKey, Hub, RangeReader
from imagechat.realtime.usage import UsageMeter
from imagechat.realtime.writer import RESTARTING, Sink

log = logging.getLogger(__name__)

UsageSink = Callable[[list[UsageDelta]], Awaitable[None]]
# Reads the (epoch, top offset) of channels, to catch events whose broker message was lost.
HeadReader = Callable[[list[ChannelKey]], Awaitable[dict[ChannelKey, tuple[str, int]]]]


class LiveService:
    def __init__(
        self,
        broker: Broker,
        read_range: RangeReader,
        read_heads: HeadReader,
        usage_sink: UsageSink,
        *,
        max_batch: int = 100,
        queue_limit: int = 2000,
        batch_window: float = 0.0,
        presence_interval: float = 1.0,
        usage_flush_interval: float = 10.0,
        gap_check_interval: float = 2.0,
        repair_grace: float = 0.02,
    ) -> None:
        self.broker = broker
        self.meter = UsageMeter()
        self.hub = Hub(
            read_range,
            window=batch_window,
            max_batch=max_batch,
            meter=self.meter,
            on_open=broker.watch,
            on_close=broker.unwatch,
            repair_grace=repair_grace,
        )
        self.connections: set[LiveConnection] = set()
        self._read_heads = read_heads
        self._usage_sink = usage_sink
        self._max_batch = max_batch
        self._queue_limit = queue_limit
        self._intervals = (presence_interval, usage_flush_interval, gap_check_interval)
        self._tasks: list[asyncio.Task[None]] = []
        self._flush_lock = asyncio.Lock()
        self._head_check: asyncio.Task[None] | None = None
        self._head_check_again = False
        self.head_checks = 0

    async def start(self) -> None:
        await self.broker.start(self.hub.deliver, self.resync)
        presence, usage, gaps = self._intervals
        self._tasks = [
            asyncio.create_task(self._every(presence, self._tick)),
            asyncio.create_task(self._every(usage, self.flush_usage)),
            asyncio.create_task(self._every(gaps, self.check_heads)),
        ]

    async def publish(self, event: EncodedEvent) -> None:
        """A committed event: this node's viewers get it next, the others through the broker."""
        # On the next turn of the loop, as soon as this write's answer is on its way.
        asyncio.get_running_loop().call_soon(self.hub.deliver, event)
        self.broker.publish(event)

    def health(self) -> Health:
        return self.broker.health()

    def resync(self) -> None:
        """Check every channel's head now (the broker may have lost messages)."""
        if self._head_check is not None and not self._head_check.done():
            self._head_check_again = True
            return
        self._head_check = asyncio.create_task(self._resync())

    async def _resync(self) -> None:
        while True:
            self._head_check_again = False
            try:
                await self.check_heads()
            except Exception as error:
                log.warning("checking heads after a broker reconnect failed: %r", error)
                self._head_check_again = True
                await asyncio.sleep(0.5)
            if not self._head_check_again:
                return

    def connect(self, sink: Sink) -> LiveConnection:
        connection = LiveConnection(
            sink, self.hub, self.meter, max_batch=self._max_batch, queue_limit=self._queue_limit
        )
        self.connections.add(connection)
        return connection

    def disconnect(self, connection: LiveConnection) -> None:
        connection.leave_all()
        self.connections.discard(connection)

    async def flush_usage(self) -> None:
        async with self._flush_lock:
            deltas = self.meter.flush()
            if not deltas:
                return
            try:
                await self._usage_sink(deltas)
            except Exception:
                self.meter.restore(deltas)
                log.exception("writing usage counters failed; they are kept for the next flush")

    async def check_heads(self) -> None:
        keys = list(self.hub.channels)
        if not keys:
            return
        heads = await self._read_heads(keys)
        self.head_checks += 1
        for key, (epoch, top) in heads.items():
            self.hub.observe_head(key, epoch, top)

    async def close(self) -> None:
        """Graceful stop: subscribers are told 1012 (reconnect elsewhere), counts are saved."""
        for task in self._tasks:
            task.cancel()
        if self._head_check is not None:
            self._head_check.cancel()
        for connection in list(self.connections):
            connection.writer.stop(RESTARTING, "server restarting")
        await self.hub.close()
        await self.broker.close()
        await self.flush_usage()

    async def _tick(self) -> None:
        self.meter.tick()
        local = self.meter.connection_counts()
        totals = await self.broker.exchange(self.hub.local_viewers(), local)
        if totals is None:
            self.hub.presence_tick()  # one process, or the broker is away: what is known here
            return
        self.hub.presence_tick(totals.viewers)
        for tenant, count in local.items():
            self.meter.observe_total(tenant, count + totals.connections.get(tenant, 0))

    @staticmethod
    async def _every(seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await action()
            except Exception:
                log.exception("periodic %s failed", getattr(action, "__name__", action))
