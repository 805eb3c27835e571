"""What clients read: an image's snapshot, one thread, and the event log for recovery.

Each read is one transaction written as steps (storage/steps.py): on SQLite it runs whole in
a reader thread, on PostgreSQL in one REPEATABLE READ transaction (storage/drivers.py), so a
snapshot and its offset are always of the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from imagechat.domain.errors import NotFound
from imagechat.domain.models import Chat, Comment, Tenant
from imagechat.storage import read_sql as sql
from imagechat.storage import rows
from imagechat.storage.drivers import Driver
from imagechat.storage.steps import Steps, every, one

HEADS_AT_ONCE = 100


@dataclass(frozen=True, slots=True)
class Snapshot:
    url_id: str
    epoch: str
    offset: int
    chats: list[Chat]
    locked: bool = False  # a moderator made this image read-only


@dataclass(frozen=True, slots=True)
class History:
    """Events after an offset: all of them (`recovered`), or none when the log can't cover it."""

    recovered: bool
    epoch: str
    offset: int
    events: list[bytes]


@dataclass(frozen=True, slots=True)
class Head:
    id: int
    epoch: str
    top_offset: int
    history_floor: int
    locked: bool = False


class Reads:
    def __init__(self, driver: Driver, *, max_replay: int) -> None:
        self._driver = driver
        self.max_replay = max_replay

    async def snapshot(self, tenant: Tenant, url_id: str) -> Snapshot:
        """Every chat of an image and the offset they are current at, read together."""
        return await self._driver.read(_snapshot(tenant, url_id))

    async def chat_with_comments(self, tenant: Tenant, chat_id: str) -> tuple[Chat, list[Comment]]:
        return await self._driver.read(_thread(tenant, chat_id))

    async def unlocked_images(self, tenant: Tenant) -> list[str]:
        """The url ids of the site's images that no moderator locked, oldest first."""
        return await self._driver.read(_unlocked_images(tenant))

    async def history(self, tenant: Tenant, url_id: str, epoch: str | None, since: int) -> History:
        """What a client at (epoch, since) missed: every event, or `recovered: false`."""
        return await self._driver.read(_history(tenant, url_id, epoch, since, self.max_replay))

    async def head(self, tenant: Tenant, url_id: str) -> tuple[str, int]:
        """(epoch, top offset) of a channel: where a subscriber without an offset starts."""
        head = await self._driver.read(channel_head(tenant, url_id))
        return head.epoch, head.top_offset

    async def heads(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, int]]:
        """(epoch, top offset) of many channels at once, for the live layer's periodic check."""
        found: dict[tuple[str, str], tuple[str, int]] = {}
        for start in range(0, len(keys), HEADS_AT_ONCE):
            found.update(await self._driver.read(_heads(keys[start : start + HEADS_AT_ONCE])))
        return found

    async def events_between(
        self, tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        """Events after..upto of one epoch, for repairing a gap; None if they are gone."""
        return await self._driver.read(_events_between(tenant_id, url_id, epoch, after, upto))


def channel_head(tenant: Tenant, url_id: str) -> Steps[Head]:
    """The channel's head; an image nobody wrote to yet is at offset 0 of the tenant's epoch."""
    row = yield from one(sql.HEAD, tenant.id, url_id)
    if row is None:
        return Head(0, tenant.epoch, 0, 0)
    return Head(
        int(row["id"]),
        row["epoch"],
        int(row["top_offset"]),
        int(row["history_floor"]),
        bool(row["locked"]),
    )


def event_payloads(channel_id: int, after: int, upto: int) -> Steps[list[bytes]]:
    found = yield from every(sql.EVENTS, channel_id, after, upto)
    return [bytes(row["payload"]) for row in found]


def _snapshot(tenant: Tenant, url_id: str) -> Steps[Snapshot]:
    head = yield from channel_head(tenant, url_id)
    found = yield from every(sql.IMAGE_CHATS, tenant.id, url_id)
    chats = [rows.chat(row) for row in found]
    return Snapshot(url_id, head.epoch, head.top_offset, chats, head.locked)


def _unlocked_images(tenant: Tenant) -> Steps[list[str]]:
    found = yield from every(sql.UNLOCKED_IMAGES, tenant.id)
    return [str(row["url_id"]) for row in found]


def _thread(tenant: Tenant, chat_id: str) -> Steps[tuple[Chat, list[Comment]]]:
    row = None
    if "\x00" not in chat_id:  # PostgreSQL refuses NUL in text; no id of ours has one
        row = yield from one(sql.CHAT, tenant.id, chat_id)
    if row is None:
        raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
    found = yield from every(sql.THREAD, chat_id)
    return rows.chat(row), [rows.comment(comment) for comment in found]


def _history(
    tenant: Tenant, url_id: str, epoch: str | None, since: int, max_replay: int
) -> Steps[History]:
    head = yield from channel_head(tenant, url_id)
    # Without an epoch only offset 0 means anything: the start of whatever history is.
    recoverable = (
        (epoch == head.epoch or (epoch is None and since == 0))
        and head.history_floor <= since <= head.top_offset
        and head.top_offset - since <= max_replay
    )
    if not recoverable:
        return History(False, head.epoch, head.top_offset, [])
    found = yield from event_payloads(head.id, since, head.top_offset)
    return History(True, head.epoch, head.top_offset, found)


def _heads(keys: Sequence[tuple[str, str]]) -> Steps[dict[tuple[str, str], tuple[str, int]]]:
    if not keys:
        return {}
    args = [value for key in keys for value in key]
    found = yield from every(sql.heads(len(keys)), *args)
    return {
        (row["tenant_id"], row["url_id"]): (row["epoch"], int(row["top_offset"])) for row in found
    }


def _events_between(
    tenant_id: str, url_id: str, epoch: str, after: int, upto: int
) -> Steps[list[bytes] | None]:
    row = yield from one(sql.HEAD, tenant_id, url_id)
    if row is None or row["epoch"] != epoch or row["history_floor"] > after:
        return None
    found = yield from event_payloads(int(row["id"]), after, upto)
    return found if len(found) == upto - after else None
