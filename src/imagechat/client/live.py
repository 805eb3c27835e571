"""A live subscriber: one WebSocket, many images, reconnects and recovers without losing or
doubling an event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from imagechat.client.rest import ImageChatClient

log = logging.getLogger(__name__)

# Closes that mean "don't come back": the server refused this connection as a whole (only
# 4400, malformed beyond repair; refusals of a subscribe are per channel, as error frames).
FINAL_CLOSE_CODES = frozenset({4400})


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event applied to a channel; `own` when this client's writes caused it."""

    event: dict[str, Any]
    own: bool


@dataclass(slots=True)
class Channel:
    """The client's mirror of one image: its chats, as of (epoch, offset)."""

    url_id: str
    epoch: str | None = None
    offset: int = 0
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    viewers: int = 0
    positioned: bool = False  # epoch and offset come from a snapshot or a `subscribed`
    reloading: bool = False  # a snapshot is being loaded after `recovered: false`

    def apply(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "deleted-image-chat":
            self.chats.pop(event["chatId"], None)
        elif kind in ("new-image-chat", "image-chat-updated"):
            chat = event["chat"]
            self.chats[chat["id"]] = chat
        self.offset = event["offset"]


@dataclass(slots=True)
class LiveStats:
    connects: int = 0
    snapshots: int = 0  # reloads after `recovered: false`
    gaps: int = 0  # events that arrived out of order and caused a resubscribe
    duplicates: int = 0  # events at or below the offset already applied
    stale: int = 0  # events of another epoch than the channel's, ignored
    reload_errors: int = 0  # failed snapshot loads (retried with backoff)
    frames: int = 0
    batches: int = 0  # frames that were arrays
    closes: list[int] = field(default_factory=list)


class LiveClient:
    """Subscribe to images of one tenant and keep a mirror of each, live.

    Events are also queued on `events` (a LiveEvent each, in offset order per image). On a
    drop it reconnects with exponential backoff and full jitter and resubscribes from each
    image's last offset; `recovered: false` reloads the snapshot over REST.
    """

    def __init__(
        self,
        server: str,
        tenant_id: str,
        *,
        rest: ImageChatClient | None = None,
        token: str | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        origin: str | None = None,
        queue_events: bool = True,
    ) -> None:
        self.server = server.rstrip("/")
        self.tenant_id = tenant_id
        self.rest = rest or ImageChatClient(server, tenant_id, token=token)
        self.token = token or self.rest.token
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.origin = origin
        self.channels: dict[str, Channel] = {}
        self.events: asyncio.Queue[LiveEvent] = asyncio.Queue()
        self.errors: list[dict[str, Any]] = []
        self.stats = LiveStats()
        self.connected = asyncio.Event()
        self._queue_events = queue_events
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._reloads: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        self.final_close: int | None = None

    async def __aenter__(self) -> LiveClient:
        self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        self._closed = True
        for reload in list(self._reloads.values()):
            reload.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    async def subscribe(
        self, url_id: str, *, snapshot: bool = True, wait: bool = True, timeout: float = 10.0
    ) -> Channel:
        """Follow an image: load its snapshot (unless told not to), then subscribe from it."""
        channel = self.channels.get(url_id)
        if channel is None:
            channel = Channel(url_id)
            if snapshot:
                await self._load_snapshot(channel)
            # Registered only now: a connect meanwhile must not subscribe it from offset 0,
            # which would replay the whole history on top of the snapshot.
            channel = self.channels.setdefault(url_id, channel)
            await self._send_subscribe(channel)
        if wait:
            await asyncio.wait_for(channel.subscribed.wait(), timeout)
        return channel

    async def unsubscribe(self, url_id: str) -> None:
        if self.channels.pop(url_id, None) is not None:
            await self._send({"type": "unsubscribe", "tenantId": self.tenant_id, "urlId": url_id})

    # --- connection loop --------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            url = self.server.replace("http", "ws", 1) + "/ws"
            try:
                async with websockets.connect(
                    url,
                    origin=Origin(self.origin) if self.origin else None,
                    max_size=None,
                    compression=None,
                    open_timeout=10,
                    ping_interval=None,
                ) as ws:
                    self._ws = ws
                    self.stats.connects += 1
                    attempt = 0
                    for channel in list(self.channels.values()):
                        channel.subscribed.clear()
                        if not channel.reloading:  # a reload subscribes when it is done
                            await self._send_subscribe(channel)
                    self.connected.set()
                    async for raw in ws:
                        await self._on_frame(raw)
                code = ws.close_code
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            except (TimeoutError, OSError, websockets.InvalidHandshake):
                code = None
            self._ws = None
            self.connected.clear()
            if code is not None:
                self.stats.closes.append(code)
            if code in FINAL_CLOSE_CODES:
                self.final_close = code
                return
            delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
            attempt += 1
            await asyncio.sleep(delay)

    async def _on_frame(self, raw: str | bytes) -> None:
        self.stats.frames += 1
        data = orjson.loads(raw)
        if isinstance(data, list):
            self.stats.batches += 1
            for item in data:
                await self._on_message(item)
        else:
            await self._on_message(data)

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "subscribed":
            await self._on_subscribed(message)
        elif kind in ("new-image-chat", "image-chat-updated", "deleted-image-chat"):
            await self._on_event(message)
        elif kind == "presence":
            channel = self.channels.get(message["urlId"])
            if channel is not None:
                channel.viewers = message["viewers"]
        elif kind == "error":
            self.errors.append(message)

    async def _on_subscribed(self, message: dict[str, Any]) -> None:
        channel = self.channels.get(message["urlId"])
        if channel is None or channel.reloading:
            return
        if not message["recovered"]:
            # The history no longer reaches our offset: start again from a fresh snapshot,
            # loaded aside so that this loop keeps reading the other channels' frames.
            self.stats.snapshots += 1
            channel.subscribed.clear()
            channel.reloading = True
            self._reloads[channel.url_id] = asyncio.create_task(self._reload(channel))
            return
        if channel.epoch is not None and message["epoch"] != channel.epoch:
            return  # an answer to a subscribe from before our last reload
        channel.epoch = message["epoch"]
        channel.positioned = True
        for event in message["events"]:
            self._apply(channel, event)
        channel.offset = max(channel.offset, message["offset"])
        channel.subscribed.set()

    async def _on_event(self, event: dict[str, Any]) -> None:
        channel = self.channels.get(event["urlId"])
        if channel is None or not channel.subscribed.is_set():
            return
        if event.get("epoch", channel.epoch) != channel.epoch:
            self.stats.stale += 1
            return
        offset = event["offset"]
        if offset <= channel.offset:
            self.stats.duplicates += 1
            return
        if offset > channel.offset + 1:
            self.stats.gaps += 1
            channel.subscribed.clear()
            await self._send_subscribe(channel)
            return
        self._apply(channel, event)

    def _apply(self, channel: Channel, event: dict[str, Any]) -> None:
        if event["offset"] <= channel.offset:
            self.stats.duplicates += 1
            return
        channel.apply(event)
        if self._queue_events:
            own = event.get("broadcastId") in self.rest.own_broadcast_ids
            self.events.put_nowait(LiveEvent(event, own))

    async def _load_snapshot(self, channel: Channel) -> None:
        snapshot = await self.rest.list_chats(channel.url_id)
        channel.epoch = snapshot["epoch"]
        channel.offset = snapshot["offset"]
        channel.chats = {chat["id"]: chat for chat in snapshot["chats"]}
        channel.positioned = True

    async def _reload(self, channel: Channel) -> None:
        """Load a fresh snapshot, retrying with backoff through REST errors, then subscribe."""
        attempt = 0
        try:
            while not self._closed and self.channels.get(channel.url_id) is channel:
                try:
                    await self._load_snapshot(channel)
                except Exception as error:
                    self.stats.reload_errors += 1
                    log.warning("reloading %s failed: %r", channel.url_id, error)
                    delay = min(self.backoff_max, self.backoff_base * 2**attempt)
                    attempt += 1
                    await asyncio.sleep(random.uniform(0, delay))
                    continue
                channel.reloading = False
                await self._send_subscribe(channel)
                return
        finally:
            channel.reloading = False
            if self._reloads.get(channel.url_id) is asyncio.current_task():
                del self._reloads[channel.url_id]

    async def _send_subscribe(self, channel: Channel) -> None:
        message: dict[str, Any] = {
            "type": "subscribe",
            "tenantId": self.tenant_id,
            "urlId": channel.url_id,
        }
        if channel.positioned:  # else: start at the channel's current position
            message["offset"] = channel.offset
            if channel.epoch is not None:
                message["epoch"] = channel.epoch
        if self.token is not None:
            message["token"] = self.token
        await self._send(message)

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None:
            return  # sent on (re)connect
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(orjson.dumps(message).decode())
