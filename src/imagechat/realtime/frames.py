"""What the server sends: event frames encoded once and shared, and the control frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class EventFrame:
    """One event, encoded once and handed as is to every subscriber (and its ASGI message)."""

    tenant_id: str
    offset: int
    text: str
    nbytes: int
    message: dict[str, Any]  # the ready-made ASGI send message, shared by every connection

    @classmethod
    def of(cls, tenant_id: str, offset: int, data: bytes) -> EventFrame:
        text = data.decode()
        return cls(tenant_id, offset, text, len(data), {"type": "websocket.send", "text": text})


@dataclass(frozen=True, slots=True)
class ControlFrame:
    """A frame that is not an event (subscribed, presence, pong, error); never batched."""

    text: str
    # A `subscribed` frame carrying replayed events counts them as deliveries.
    tenant_id: str = ""
    events: int = 0

    @property
    def nbytes(self) -> int:
        return len(self.text.encode())


Frame = EventFrame | ControlFrame


def control(payload: dict[str, Any]) -> ControlFrame:
    return ControlFrame(orjson.dumps(payload).decode())


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
    tenant_id: str, url_id: str, epoch: str, offset: int, recovered: bool, events: list[str]
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
    ).decode()
    text = head[:-1] + ',"events":[' + ",".join(events) + "]}"
    return ControlFrame(text, tenant_id, len(events))


def batch_text(frames: list[EventFrame]) -> str:
    return "[" + ",".join(frame.text for frame in frames) + "]"
