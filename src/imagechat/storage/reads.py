"""What clients read: an image's snapshot, one thread, and the event log for recovery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.errors import NotFound
from imagechat.domain.models import Chat, Comment, Tenant
from imagechat.storage import rows
from imagechat.storage.tables import channels, chats, comments, events
from imagechat.storage.transactions import Transactions


@dataclass(frozen=True, slots=True)
class Snapshot:
    url_id: str
    epoch: str
    offset: int
    chats: list[Chat]


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


class Reads:
    def __init__(self, transactions: Transactions, *, max_replay: int) -> None:
        self._tx = transactions
        self.max_replay = max_replay

    async def snapshot(self, tenant: Tenant, url_id: str) -> Snapshot:
        """Every chat of an image and the offset they are current at, read together."""
        async with self._tx.read() as conn:
            head = await channel_head(conn, tenant, url_id)
            result = await conn.execute(
                rows.CHAT_SELECT.where(
                    chats.c.tenant_id == tenant.id, chats.c.url_id == url_id
                ).order_by(chats.c.created_at, chats.c.id)
            )
            found = [rows.chat_from(row) for row in result]
        return Snapshot(url_id, head.epoch, head.top_offset, found)

    async def chat_with_comments(self, tenant: Tenant, chat_id: str) -> tuple[Chat, list[Comment]]:
        async with self._tx.read() as conn:
            chat = await rows.load_chat(conn, tenant.id, chat_id)
            if chat is None:
                raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
            result = await conn.execute(
                rows.COMMENT_SELECT.where(comments.c.chat_id == chat_id).order_by(
                    comments.c.created_at, comments.c.id
                )
            )
            return chat, [rows.comment_from(row) for row in result]

    async def history(self, tenant: Tenant, url_id: str, epoch: str | None, since: int) -> History:
        """What a client at (epoch, since) missed: every event, or `recovered: false`."""
        async with self._tx.read() as conn:
            head = await channel_head(conn, tenant, url_id)
            # Without an epoch only offset 0 means anything: the start of whatever history is.
            recoverable = (
                (epoch == head.epoch or (epoch is None and since == 0))
                and head.history_floor <= since <= head.top_offset
                and head.top_offset - since <= self.max_replay
            )
            if not recoverable:
                return History(False, head.epoch, head.top_offset, [])
            found = await event_payloads(conn, head.id, since, head.top_offset)
        return History(True, head.epoch, head.top_offset, found)

    async def head(self, tenant: Tenant, url_id: str) -> tuple[str, int]:
        """(epoch, top offset) of a channel: where a subscriber without an offset starts."""
        async with self._tx.engine.connect() as conn:
            head = await channel_head(conn, tenant, url_id)
        return head.epoch, head.top_offset

    async def heads(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, int]]:
        """(epoch, top offset) of many channels at once, for the live layer's periodic check."""
        found: dict[tuple[str, str], tuple[str, int]] = {}
        async with self._tx.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                result = await conn.execute(
                    sa.select(
                        channels.c.tenant_id,
                        channels.c.url_id,
                        channels.c.epoch,
                        channels.c.top_offset,
                    ).where(sa.tuple_(channels.c.tenant_id, channels.c.url_id).in_(chunk))
                )
                for row in result:
                    found[(row.tenant_id, row.url_id)] = (row.epoch, int(row.top_offset))
        return found

    async def events_between(
        self, tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        """Events after..upto of one epoch, for repairing a gap; None if they are gone."""
        async with self._tx.read() as conn:
            row = (
                await conn.execute(
                    sa.select(channels).where(
                        channels.c.tenant_id == tenant_id, channels.c.url_id == url_id
                    )
                )
            ).first()
            if row is None or row.epoch != epoch or row.history_floor > after:
                return None
            found = await event_payloads(conn, row.id, after, upto)
        return found if len(found) == upto - after else None


async def channel_head(conn: AsyncConnection, tenant: Tenant, url_id: str) -> Head:
    """The channel's head; an image nobody wrote to yet is at offset 0 of the tenant's epoch."""
    row = (
        await conn.execute(
            sa.select(channels).where(
                channels.c.tenant_id == tenant.id, channels.c.url_id == url_id
            )
        )
    ).first()
    if row is None:
        return Head(0, tenant.epoch, 0, 0)
    return Head(row.id, row.epoch, int(row.top_offset), int(row.history_floor))


async def event_payloads(
    conn: AsyncConnection, channel_id: int, after: int, upto: int
) -> list[bytes]:
    result = await conn.execute(
        sa.select(events.c.payload)
        .where(events.c.channel_id == channel_id, events.c.offset > after, events.c.offset <= upto)
        .order_by(events.c.offset)
    )
    return [bytes(row.payload) for row in result]
