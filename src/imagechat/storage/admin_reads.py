"""What the operator console and the admin API read: every conversation of a site with its
moderation state, one thread with its hidden comments and flags, and the flagged queue.

Moderators see everything here, hidden words included; the public reads (reads.py) never
show a hidden comment. Each read is one transaction of steps, like reads.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from imagechat.domain.errors import NotFound
from imagechat.domain.models import Tenant
from imagechat.domain.times import to_rfc3339
from imagechat.storage import admin_sql as sql
from imagechat.storage import rows
from imagechat.storage.drivers import Driver
from imagechat.storage.steps import Row, Steps, every, one
from imagechat.storage.values import as_utc

Status = Literal["all", "open", "resolved", "flagged", "hidden"]
STATUSES: tuple[Status, ...] = ("all", "open", "resolved", "flagged", "hidden")
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Search:
    """What the conversations list is narrowed to; empty strings narrow nothing."""

    text: str = ""
    author: str = ""
    url_id: str = ""
    status: Status = "all"
    page: int = 1
    per_page: int = 50


def comment_json(row: Row) -> dict[str, Any]:
    """A comment as moderators see it: the public shape plus its moderation state."""
    return {
        **rows.comment(row).to_json(),
        "hidden": bool(row["hidden"]),
        "flagCount": int(row["flag_count"]),
    }


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AdminReads:
    def __init__(self, driver: Driver) -> None:
        self._driver = driver

    async def conversations(self, tenant: Tenant, search: Search) -> dict[str, Any]:
        """One page of the site's conversations, newest first, and whether more follow."""
        return await self._driver.read(_conversations(tenant, search))

    async def thread(self, tenant: Tenant, chat_id: str) -> dict[str, Any]:
        """A chat with every comment, hidden ones included, and the reasons people flagged."""
        return await self._driver.read(_thread(tenant, chat_id))

    async def flagged(self, tenant: Tenant, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Comments waiting for a moderator, most flagged first, with their image and reasons."""
        return await self._driver.read(_flagged(tenant, max(1, min(limit, MAX_PAGE))))


def _conversations(tenant: Tenant, search: Search) -> Steps[dict[str, Any]]:
    per_page = max(1, min(search.per_page, MAX_PAGE))
    page = max(1, search.page)
    args: list[Any] = [tenant.id]
    if search.text:
        args.append(_like(search.text))
    if search.author:
        args += [_like(search.author)] * 2
    if search.url_id:
        args.append(_like(search.url_id))
    statement = sql.conversations(
        bool(search.text), bool(search.author), bool(search.url_id), search.status
    )
    found = yield from every(statement, *args, per_page + 1, (page - 1) * per_page)
    more = len(found) > per_page
    found = found[:per_page]
    details = yield from _details([row["id"] for row in found])
    empty = {"firstComment": None, "flagCount": 0, "hiddenCount": 0}
    return {
        "conversations": [
            {
                "chat": rows.chat(row).to_json(),
                "imageReadOnly": bool(row["image_locked"]),
                **details.get(row["id"], empty),
            }
            for row in found
        ],
        "page": page,
        "more": more,
    }


def _details(chat_ids: Sequence[str]) -> Steps[dict[str, dict[str, Any]]]:
    if not chat_ids:
        return {}
    counted = yield from every(sql.counts(len(chat_ids)), *chat_ids)
    found: dict[str, dict[str, Any]] = {
        row["chat_id"]: {
            "firstComment": None,
            "flagCount": int(row["flags"] or 0),
            "hiddenCount": int(row["hidden_count"] or 0),
        }
        for row in counted
    }
    firsts = yield from every(sql.first_comments(len(chat_ids)), *chat_ids)
    for row in firsts:
        entry = found.get(row["chat_id"])
        if entry is not None and entry["firstComment"] is None:
            entry["firstComment"] = comment_json(row)
    return found


def _thread(tenant: Tenant, chat_id: str) -> Steps[dict[str, Any]]:
    row = None
    if "\x00" not in chat_id:  # PostgreSQL refuses NUL in text; no id of ours has one
        row = yield from one(sql.CHAT, tenant.id, chat_id)
    if row is None:
        raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
    chat = rows.chat(row)
    found = yield from every(sql.THREAD, chat_id)
    thread = [comment_json(comment) for comment in found]
    flags = yield from _reasons(tenant, [c["id"] for c in thread])
    locked = yield from one(sql.IMAGE_LOCKED, tenant.id, chat.url_id)
    for comment in thread:
        comment["flags"] = flags.get(comment["id"], [])
    return {
        "chat": chat.to_json(),
        "imageReadOnly": bool(locked is not None and locked["locked"]),
        "comments": thread,
    }


def _flagged(tenant: Tenant, limit: int) -> Steps[list[dict[str, Any]]]:
    found = yield from every(sql.FLAGGED, tenant.id, limit)
    queue = [{**comment_json(row), "urlId": row["image"]} for row in found]
    flags = yield from _reasons(tenant, [c["id"] for c in queue])
    for comment in queue:
        comment["flags"] = flags.get(comment["id"], [])
    return queue


def _reasons(tenant: Tenant, comment_ids: Sequence[str]) -> Steps[dict[str, list[dict[str, Any]]]]:
    if not comment_ids:
        return {}
    found = yield from every(sql.reasons(len(comment_ids)), tenant.id, *comment_ids)
    reasons: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        reasons.setdefault(row["comment_id"], []).append(
            {
                "userId": row["user_id"],
                "reason": row["reason"],
                "createdAt": to_rfc3339(as_utc(row["created_at"])),
            }
        )
    return reasons
