"""The things imagechat talks about, as plain immutable records, and their JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from imagechat.domain.times import to_rfc3339

Role = Literal["guest", "user", "moderator", "admin"]
ROLES: tuple[Role, ...] = ("guest", "user", "moderator", "admin")


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    api_secret: str
    origins: tuple[str, ...]
    private: bool
    readonly: bool
    epoch: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    avatar_url: str | None
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role in ("moderator", "admin")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "avatarUrl": self.avatar_url, "role": self.role}


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    url_id: str
    x: float
    y: float
    comment_count: int
    resolved: bool
    author: User
    created_at: datetime
    updated_at: datetime
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "urlId": self.url_id,
            "x": self.x,
            "y": self.y,
            "commentCount": self.comment_count,
            "resolved": self.resolved,
            "author": self.author.to_json(),
            "createdAt": to_rfc3339(self.created_at),
            "updatedAt": to_rfc3339(self.updated_at),
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    chat_id: str
    body: str
    author: User
    created_at: datetime
    edited_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "chatId": self.chat_id,
            "body": self.body,
            "author": self.author.to_json(),
            "createdAt": to_rfc3339(self.created_at),
            "editedAt": to_rfc3339(self.edited_at) if self.edited_at else None,
        }
