"""The Redis (or Valkey) broker: one Redis channel per image, subscribed only while watched.

A node subscribes to the channels its own clients follow, so it receives only their events;
each event crosses Redis once per node and is fanned out locally. Publishing goes through a
bounded outbox and a pipelined connection of its own. The subscribing connection reconnects
with backoff and full jitter; after each (re)connect the node checks every channel's head in
the database at once, since whatever was published while it was away is in the log only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from imagechat.domain.events import EncodedEvent
from imagechat.realtime.broker import ChannelKey, Deliver, Health, Totals
from imagechat.realtime.outbox import Outbox
from imagechat.realtime.presence import RedisCounts

log = logging.getLogger(__name__)

PREFIX = "imagechat:"
EVENTS = PREFIX + "e:"
RECONNECT_FIRST = 0.1
RECONNECT_MAX = 2.0
KEEPALIVE = 5.0  # seconds of silence before the subscriber pings; three missed means gone
SUBSCRIBE_CHUNK = 500


def redis_url(url: str) -> str:
    """redis-py's spelling of a broker URL (valkey:// is the same protocol)."""
    for ours, theirs in (("valkeys://", "rediss://"), ("valkey://", "redis://")):
        if url.lower().startswith(ours):
            return theirs + url[len(ours) :]
    return url


def channel_name(key: ChannelKey) -> bytes:
    # Tenant ids hold no ':', so the first one after the prefix ends the tenant.
    return f"{EVENTS}{key[0]}:{key[1]}".encode()


def encode(event: EncodedEvent) -> bytes:
    """`<epoch> <offset>\\n<event JSON>`: the routing fields without parsing the JSON."""
    return f"{event.epoch} {event.offset}\n".encode() + event.data


def decode(key: ChannelKey, payload: bytes) -> EncodedEvent:
    header, _, data = payload.partition(b"\n")
    epoch, _, offset = header.decode().partition(" ")
    return EncodedEvent(key[0], key[1], epoch, int(offset), data)


class RedisBroker:
    name = "redis"

    def __init__(self, url: str, *, node_id: str, outbox_limit: int = 10_000) -> None:
        self.url = redis_url(url)
        self.node_id = node_id
        # Failures must reach us, not be retried behind our back: a reconnect we do not see
        # would hide the messages lost meanwhile.
        options: dict[str, Any] = {
            "retry": Retry(NoBackoff(), 0),
            "socket_connect_timeout": 2.0,
            "socket_keepalive": True,
        }
        self._subscriber = Redis.from_url(self.url, **options)
        # Commands may retry once: after a Redis restart the first use of each pooled
        # connection finds it closed, and a fresh one is the cure. Nothing is hidden by it.
        options["retry"] = Retry(NoBackoff(), 1)
        self._commands = Redis.from_url(self.url, socket_timeout=2.0, **options)
        self.counts = RedisCounts(self._commands, node_id, prefix=PREFIX)
        self._outbox: Outbox[EncodedEvent] = Outbox(
            self._publish_many, limit=outbox_limit, on_result=self._published
        )
        self._channels: dict[bytes, ChannelKey] = {}
        self._to_subscribe: set[bytes] = set()
        self._to_unsubscribe: set[bytes] = set()
        self._pubsub: Any = None
        self._changing: asyncio.Task[None] | None = None
        self._listening: asyncio.Task[None] | None = None
        self._deliver: Deliver | None = None
        self._resync: Callable[[], None] | None = None
        self._subscribed_ok = False
        self._publish_error: str = ""
        self._listen_error: str = "connecting"
        self._closed = False
        self.connects = 0
        self.received = 0

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        self._deliver, self._resync = deliver, resync
        self._outbox.start()
        self._listening = asyncio.create_task(self._listen())

    # --- channels ---------------------------------------------------------------------------

    def watch(self, key: ChannelKey) -> None:
        name = channel_name(key)
        self._channels[name] = key
        self._to_unsubscribe.discard(name)
        self._to_subscribe.add(name)
        self._apply_changes()

    def unwatch(self, key: ChannelKey) -> None:
        name = channel_name(key)
        if self._channels.pop(name, None) is None:
            return
        self._to_subscribe.discard(name)
        self._to_unsubscribe.add(name)
        self._apply_changes()

    def _apply_changes(self) -> None:
        if self._pubsub is not None and (self._changing is None or self._changing.done()):
            self._changing = asyncio.create_task(self._change_subscriptions())

    async def _change_subscriptions(self) -> None:
        pubsub = self._pubsub
        try:
            while pubsub is not None and pubsub is self._pubsub:
                if self._to_subscribe:
                    names, self._to_subscribe = list(self._to_subscribe), set()
                    await pubsub.subscribe(*names)
                elif self._to_unsubscribe:
                    names, self._to_unsubscribe = list(self._to_unsubscribe), set()
                    await pubsub.unsubscribe(*names)
                else:
                    return
        except Exception as error:
            # The listener sees the broken connection too and resubscribes everything.
            log.debug("changing subscriptions failed: %r", error)

    # --- receiving --------------------------------------------------------------------------

    async def _listen(self) -> None:
        delay = RECONNECT_FIRST
        while not self._closed:
            pubsub: Any = self._subscriber.pubsub()
            try:
                await pubsub.subscribe(f"{PREFIX}node:{self.node_id}")  # keeps it in pubsub mode
                self._to_subscribe.clear()
                self._to_unsubscribe.clear()
                names = list(self._channels)
                for start in range(0, len(names), SUBSCRIBE_CHUNK):
                    await pubsub.subscribe(*names[start : start + SUBSCRIBE_CHUNK])
                self._pubsub = pubsub
                self._subscribed_ok, self._listen_error, self._publish_error = True, "", ""
                self.connects += 1
                delay = RECONNECT_FIRST
                self._apply_changes()  # what was watched while subscribing
                if self._resync is not None:
                    self._resync()
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._subscribed_ok or self._listen_error == "connecting":
                    log.warning("Redis broker connection lost: %r", error)
                self._listen_error = f"Redis is unreachable: {error}"
            finally:
                self._pubsub = None
                self._subscribed_ok = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            if self._closed:
                return
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, RECONNECT_MAX)

    async def _receive(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=KEEPALIVE)
            now = loop.time()
            if message is None:
                if now - heard > 3 * KEEPALIVE:
                    raise ConnectionError("no answer to pings")
                if not pinged:
                    await pubsub.ping()
                    pinged = True
                continue
            heard, pinged = now, False
            if message["type"] != "message":
                continue
            key = self._channels.get(message["channel"])
            if key is None or self._deliver is None:
                continue  # unwatched meanwhile
            try:
                event = decode(key, message["data"])
            except ValueError:
                log.warning("ignoring a malformed broker message on %r", message["channel"])
                continue
            self.received += 1
            self._deliver(event)

    # --- publishing -------------------------------------------------------------------------

    def publish(self, event: EncodedEvent) -> None:
        self._outbox.put(event)

    async def _publish_many(self, events: list[EncodedEvent]) -> None:
        async with self._commands.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(channel_name((event.tenant_id, event.url_id)), encode(event))
            await pipe.execute()

    def _published(self, error: BaseException | None) -> None:
        if error is None:
            self._publish_error = ""
        else:
            if not self._publish_error:
                log.warning("publishing to Redis failed: %r", error)
            self._publish_error = f"publishing to Redis failed: {error}"

    @property
    def outbox(self) -> Outbox[EncodedEvent]:
        return self._outbox

    # --- state ------------------------------------------------------------------------------

    def health(self) -> Health:
        if not self._subscribed_ok:
            return Health(False, self._listen_error or "Redis is unreachable")
        if self._publish_error:
            return Health(False, self._publish_error)
        return Health(True)

    async def exchange(
        self, viewers: dict[ChannelKey, int], connections: dict[str, int]
    ) -> Totals | None:
        totals = await self.counts.exchange(viewers, connections)
        if totals is not None:
            self._publish_error = ""  # Redis answers commands again
        return totals

    async def close(self) -> None:
        self._closed = True
        await self._outbox.close()
        await self.counts.forget()
        for task in (self._listening, self._changing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for client in (self._commands, self._subscriber):
            with contextlib.suppress(Exception):
                await client.aclose()
