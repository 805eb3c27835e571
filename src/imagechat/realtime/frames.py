"""What the server sends: frames encoded once and shared, plain or compressed.

Every frame the live layer hands to a connection is *prepared*: its JSON is encoded once, and
its WebSocket framings are built when first asked for and kept, so every connection that
needs the same bytes gets the very same object. Server frames carry no mask, so one plain
frame is valid on every connection without an extension. Where a client negotiated
permessage-deflate with `server_no_context_takeover`, each message is compressed on its own,
so one compressed frame (per window size) is valid on every such connection too: the frame
is compressed once, by the first connection that needs it, and shared like the plain one
(what gorilla/websocket calls a PreparedMessage).
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

# Compression of shared frames: level 6 gives nearly all of level 9's size on JSON events at a
# fraction of its time; memLevel 8 is zlib's default. Each message gets a fresh compressor
# (no context takeover), so nothing is kept per connection.
DEFLATE_LEVEL = 6
DEFLATE_MEM_LEVEL = 8
# Below this, compression rarely pays for its header: such frames always go out plain.
DEFLATE_MIN_BYTES = 64
_SYNC_TAIL = b"\x00\x00\xff\xff"


def _header(first_byte: int, length: int) -> bytes:
    if length < 126:
        return bytes((first_byte, length))
    if length < 1 << 16:
        return bytes((first_byte, 126)) + length.to_bytes(2, "big")
    return bytes((first_byte, 127)) + length.to_bytes(8, "big")


def text_frame(payload: bytes) -> bytes:
    """A complete unmasked WebSocket text frame (RFC 6455 §5.2), as a server sends it."""
    return _header(0x81, len(payload)) + payload


def binary_frame(payload: bytes) -> bytes:
    """A complete unmasked WebSocket binary frame."""
    return _header(0x82, len(payload)) + payload


def deflate(payload: bytes, window_bits: int) -> bytes:
    """`payload` compressed as one permessage-deflate message with no context (RFC 7692 §7.2.1)."""
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -window_bits, DEFLATE_MEM_LEVEL)
    body = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return body[:-4] if body.endswith(_SYNC_TAIL) else body


def deflated_text_frame(payload: bytes, window_bits: int) -> bytes:
    """A compressed text frame (RSV1 set), or the plain frame where compressing doesn't pay."""
    if len(payload) < DEFLATE_MIN_BYTES:
        return text_frame(payload)
    body = deflate(payload, window_bits)
    if len(body) >= len(payload):
        return text_frame(payload)
    return _header(0xC1, len(body)) + body


class Prepared:
    """A server message encoded once: its JSON, and its frames built on demand and kept."""

    __slots__ = ("_deflated", "_wire", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._wire: bytes | None = None
        self._deflated: tuple[int, bytes] | dict[int, bytes] | None = None

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @property
    def wire(self) -> bytes:
        """The plain text frame, shared by every connection without compression."""
        wire = self._wire
        if wire is None:
            wire = self._wire = text_frame(self.data)
        return wire

    def deflated(self, window_bits: int) -> bytes:
        """The compressed frame for connections whose server window is `window_bits`.

        Browsers leave the window at 15, so nearly always one size is ever asked for; a client
        asking for a smaller one gets its own copy, still shared by its like.
        """
        kept = self._deflated
        if type(kept) is tuple:
            if kept[0] == window_bits:
                return kept[1]
            kept = {kept[0]: kept[1]}
        elif isinstance(kept, dict) and window_bits in kept:
            return kept[window_bits]
        made = deflated_text_frame(self.data, window_bits)
        if kept is None:
            self._deflated = (window_bits, made)
        else:
            assert isinstance(kept, dict)
            kept[window_bits] = made
            self._deflated = kept
        return made

    @property
    def text(self) -> str:
        return self.data.decode()

    @property
    def message(self) -> dict[str, Any]:
        """As an ASGI send message (servers other than imagechat's own protocol)."""
        return {"type": "websocket.send", "text": self.data.decode()}

    def __eq__(self, other: object) -> bool:
        # Equal when they would put the same bytes on the wire (the caches don't count).
        return type(other) is type(self) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data[:60]!r})"


class EventFrame(Prepared):
    """One event of a channel, shared by every subscriber."""

    __slots__ = ("offset", "tenant_id")

    def __init__(self, tenant_id: str, offset: int, data: bytes) -> None:
        super().__init__(data)
        self.tenant_id = tenant_id
        self.offset = offset

    @classmethod
    def of(cls, tenant_id: str, offset: int, data: bytes) -> EventFrame:
        return cls(tenant_id, offset, data)


class EventBatch(Prepared):
    """Events of one channel that leave together as one array frame, built once per channel
    and shared by every subscriber, exactly like a single EventFrame."""

    __slots__ = ("events", "tenant_id")

    def __init__(self, events: tuple[EventFrame, ...]) -> None:
        super().__init__(batch_payload(events))
        self.tenant_id = events[0].tenant_id
        self.events = events

    @classmethod
    def of(cls, events: list[EventFrame]) -> EventBatch:
        return cls(tuple(events))


Events = EventFrame | EventBatch


class ControlFrame(Prepared):
    """A frame that is not an event (subscribed, presence, pong, error); never batched.

    Built once per message (`subscribed`, `error`), per channel (`presence`) or once for all
    (`pong`), and shared like events wherever it goes to several connections.
    """

    # A `subscribed` frame carrying replayed events counts them as deliveries.
    __slots__ = ("events", "tenant_id")

    def __init__(self, data: bytes, tenant_id: str = "", events: int = 0) -> None:
        super().__init__(data)
        self.tenant_id = tenant_id
        self.events = events


Frame = EventFrame | EventBatch | ControlFrame


def control(payload: dict[str, Any]) -> ControlFrame:
    return ControlFrame(orjson.dumps(payload))


PONG = control({"type": "pong"})


def error(
    code: str, message: str, tenant_id: str | None = None, url_id: str | None = None
) -> ControlFrame:
    payload: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if tenant_id is not None:
        payload["tenantId"] = tenant_id
    if url_id is not None:
        payload["urlId"] = url_id
    return control(payload)


def presence(tenant_id: str, url_id: str, viewers: int) -> ControlFrame:
    return control({"type": "presence", "tenantId": tenant_id, "urlId": url_id, "viewers": viewers})


def subscribed(
    tenant_id: str, url_id: str, epoch: str, offset: int, recovered: bool, events: list[bytes]
) -> ControlFrame:
    """The answer to a subscribe; replayed events are spliced in already encoded."""
    head = orjson.dumps(
        {
            "type": "subscribed",
            "tenantId": tenant_id,
            "urlId": url_id,
            "epoch": epoch,
            "offset": offset,
            "recovered": recovered,
        }
    )
    data = head[:-1] + b',"events":[' + b",".join(events) + b"]}"
    return ControlFrame(data, tenant_id, len(events))


def batch_payload(frames: tuple[EventFrame, ...] | list[EventFrame]) -> bytes:
    """Several events as one JSON array, spliced from their encodings."""
    return b"[" + b",".join(frame.data for frame in frames) + b"]"
