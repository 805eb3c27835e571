"""Live events as the wire contract (docs/api.md) shapes them, encoded exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from imagechat.domain.models import Chat, Comment

Change = Literal[
    "comment-added",
    "comment-edited",
    "comment-deleted",
    "moved",
    "resolved",
    "reopened",
    "updated",  # one PATCH changed several things (position and resolved state)
]


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """A committed event with its routing keys; `data` is exactly what subscribers receive."""

    tenant_id: str
    url_id: str
    epoch: str
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Position:
    """Where an event stands: its channel, the history (epoch) and its offset in it."""

    tenant_id: str
    url_id: str
    epoch: str
    offset: int

    def head(self, kind: str, broadcast_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "tenantId": self.tenant_id,
            "urlId": self.url_id,
            "epoch": self.epoch,
            "offset": self.offset,
            "broadcastId": broadcast_id,
        }


def new_chat(at: Position, broadcast_id: str, chat: Chat, comment: Comment) -> dict[str, Any]:
    return {
        **at.head("new-image-chat", broadcast_id),
        "chat": chat.to_json(),
        "comment": comment.to_json(),
    }


def chat_updated(
    at: Position,
    broadcast_id: str,
    change: Change,
    chat: Chat,
    comment: Comment | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        **at.head("image-chat-updated", broadcast_id),
        "change": change,
        "chat": chat.to_json(),
    }
    if comment is not None:
        event["comment"] = comment.to_json()
    return event


def comment_deleted(at: Position, broadcast_id: str, chat: Chat, comment_id: str) -> dict[str, Any]:
    """A comment is gone: the event names it and never carries its words."""
    return {
        **at.head("image-chat-updated", broadcast_id),
        "change": "comment-deleted",
        "chat": chat.to_json(),
        "commentId": comment_id,
    }


def chat_deleted(at: Position, broadcast_id: str, chat_id: str) -> dict[str, Any]:
    return {**at.head("deleted-image-chat", broadcast_id), "chatId": chat_id}


def encode(event: dict[str, Any]) -> bytes:
    """The one serialization of an event: stored in the log, published, and sent as is."""
    return orjson.dumps(event)
