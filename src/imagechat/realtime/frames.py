"""What the server sends: event frames encoded once and shared, and the control frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


def text_frame(payload: bytes) -> bytes:
    """A complete unmasked WebSocket text frame (RFC 6455 §5.2), as a server sends it.

    Server frames carry no mask, so one encoded frame is valid on every connection that
    negotiated no extension: the hub builds it once per event and every writer sends it as is.
    """
    length = len(payload)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 1 << 16:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + payload


@dataclass(frozen=True, slots=True)
class EventFrame:
    """One event, encoded once and shared by every subscriber: JSON, ASGI message and frame."""

    tenant_id: str
    offset: int
    data: bytes
    message: dict[str, Any]  # the ready-made ASGI send message
    wire: bytes  # the ready-made WebSocket frame

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @classmethod
    def of(cls, tenant_id: str, offset: int, data: bytes) -> EventFrame:
        message = {"type": "websocket.send", "text": data.decode()}
        return cls(tenant_id, offset, data, message, text_frame(data))


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events of one channel that leave together as one array frame, built once per channel
    and shared by every subscriber, exactly like a single EventFrame."""

    tenant_id: str
    events: tuple[EventFrame, ...]
    data: bytes
    message: dict[str, Any]
    wire: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @classmethod
    def of(cls, events: list[EventFrame]) -> EventBatch:
        data = batch_payload(events)
        message = {"type": "websocket.send", "text": data.decode()}
        return cls(events[0].tenant_id, tuple(events), data, message, text_frame(data))


Events = EventFrame | EventBatch


def events_in(item: Events) -> tuple[EventFrame, ...]:
    return item.events if isinstance(item, EventBatch) else (item,)


@dataclass(frozen=True, slots=True)
class ControlFrame:
    """A frame that is not an event (subscribed, presence, pong, error); never batched."""

    data: bytes
    # A `subscribed` frame carrying replayed events counts them as deliveries.
    tenant_id: str = ""
    events: int = 0

    @property
    def text(self) -> str:
        return self.data.decode()

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @property
    def wire(self) -> bytes:
        return text_frame(self.data)

    @property
    def message(self) -> dict[str, Any]:
        return {"type": "websocket.send", "text": self.data.decode()}


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


def batch_payload(frames: list[EventFrame]) -> bytes:
    """Several events as one JSON array, spliced from their encodings."""
    return b"[" + b",".join(frame.data for frame in frames) + b"]"
