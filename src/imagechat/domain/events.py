"""Live events as PROTOCOL.md shapes them, built from the models and encoded exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from imagechat.domain.models import Chat, Comment

Change = Literal[
    "comment-added", "comment-edited", "comment-deleted", "moved", "resolved", "reopened"
]


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """A committed event with its routing keys; `data` is exactly what subscribers receive."""

    tenant_id: str
    url_id: str
    epoch: str
    offset: int
    data: bytes


def new_chat(
    tenant_id: str, url_id: str, offset: int, broadcast_id: str, chat: Chat, comment: Comment
) -> dict[str, Any]:
    return {
        "type": "new-image-chat",
        "tenantId": tenant_id,
        "urlId": url_id,
        "offset": offset,
        "broadcastId": broadcast_id,
        "chat": chat.to_json(),
        "comment": comment.to_json(),
    }


def chat_updated(
    tenant_id: str,
    url_id: str,
    offset: int,
    broadcast_id: str,
    change: Change,
    chat: Chat,
    comment: Comment | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "image-chat-updated",
        "tenantId": tenant_id,
        "urlId": url_id,
        "offset": offset,
        "broadcastId": broadcast_id,
        "change": change,
        "chat": chat.to_json(),
    }
    if comment is not None:
        event["comment"] = comment.to_json()
    return event


def chat_deleted(
    tenant_id: str, url_id: str, offset: int, broadcast_id: str, chat_id: str
) -> dict[str, Any]:
    return {
        "type": "deleted-image-chat",
        "tenantId": tenant_id,
        "urlId": url_id,
        "offset": offset,
        "broadcastId": broadcast_id,
        "chatId": chat_id,
    }


def encode(event: dict[str, Any]) -> bytes:
    """The one serialization of an event: stored in the log, published, and sent as is."""
    return orjson.dumps(event)
