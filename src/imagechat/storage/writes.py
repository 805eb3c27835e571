"""Every mutation, each in ONE transaction with its offset, event row, idempotency record and
usage counters. Nothing is published for a change that did not commit."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain import events, permissions
from imagechat.domain.errors import Conflict, Invalid, NotFound
from imagechat.domain.events import EncodedEvent
from imagechat.domain.models import Chat, Comment, Tenant, User
from imagechat.domain.times import now, utc_day
from imagechat.storage import rows
from imagechat.storage.dialect import upsert
from imagechat.storage.tables import (
    channels,
    chats,
    comments,
    idempotency_keys,
    usage_daily,
    users,
)
from imagechat.storage.tables import (
    events as events_table,
)


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    status: int
    body: bytes  # the JSON answer, stored for idempotent retries
    event: EncodedEvent | None  # None when a retry was answered from the idempotency record


@dataclass(slots=True)
class _Change:
    """What an operation did, handed back to the transaction that records it."""

    status: int
    url_id: str
    event: dict[str, Any]
    answer: dict[str, Any]
    conversations: int = 0
    comments: int = 0


class Tx:
    """One write transaction: the connection and the channel head it has locked."""

    def __init__(self, conn: AsyncConnection, tenant: Tenant, moment: datetime) -> None:
        self.conn = conn
        self.tenant = tenant
        self.now = moment
        self.channel_id = 0
        self.epoch = ""
        self.offset = 0

    async def take_offset(self, url_id: str) -> int:
        """Lock the channel's head and take its next offset (the row lock orders writers)."""
        # One statement creates the head at offset 1 or bumps it; its row lock is held until
        # commit, so concurrent writers of one channel queue here and never share an offset.
        statement = upsert(self.conn, channels).values(
            tenant_id=self.tenant.id,
            url_id=url_id,
            epoch=self.tenant.epoch,
            top_offset=1,
            history_floor=0,
        )
        row = (
            await self.conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant_id", "url_id"],
                    set_={"top_offset": channels.c.top_offset + 1},
                ).returning(channels.c.id, channels.c.epoch, channels.c.top_offset)
            )
        ).one()
        self.channel_id, self.epoch, self.offset = row.id, row.epoch, row.top_offset
        return self.offset

    def position(self, url_id: str) -> events.Position:
        """Where this write's event stands (after `take_offset`)."""
        return events.Position(self.tenant.id, url_id, self.epoch, self.offset)


Operation = Callable[[Tx], Awaitable[_Change]]


async def run(
    conn: AsyncConnection,
    tenant: Tenant,
    actor: User,
    broadcast_id: str,
    operation_name: str,
    operation: Operation,
    *,
    record_user: bool = True,
) -> WriteOutcome:
    """Apply `operation` once per (tenant, broadcastId); a retry gets the first answer back.

    `record_user` upserts the actor's name, avatar and role, which authors are shown with;
    the Store skips it when this process already wrote the very same values.
    """
    async with conn.begin():
        stored = await stored_outcome(conn, tenant.id, actor.id, broadcast_id, operation_name)
        if stored is not None:
            return stored
        moment = now()
        permissions.may_write(tenant, actor)
        if record_user:
            await upsert_user(conn, tenant.id, actor, moment)
        tx = Tx(conn, tenant, moment)
        change = await operation(tx)
        data = events.encode(change.event)
        body = orjson.dumps(change.answer)
        await conn.execute(
            sa.insert(events_table).values(
                channel_id=tx.channel_id,
                offset=tx.offset,
                epoch=tx.epoch,
                type=change.event["type"],
                broadcast_id=broadcast_id,
                payload=data,
                created_at=moment,
            )
        )
        await conn.execute(
            sa.insert(idempotency_keys).values(
                tenant_id=tenant.id,
                broadcast_id=broadcast_id,
                operation=operation_name,
                actor_id=actor.id,
                status_code=change.status,
                response=body,
                created_at=moment,
            )
        )
        if change.conversations or change.comments:
            await add_usage(
                conn,
                tenant.id,
                moment,
                conversations=change.conversations,
                comments=change.comments,
            )
    event = EncodedEvent(tenant.id, change.url_id, tx.epoch, tx.offset, data)
    return WriteOutcome(change.status, body, event)


async def stored_outcome(
    conn: AsyncConnection, tenant_id: str, actor_id: str, broadcast_id: str, operation_name: str
) -> WriteOutcome | None:
    """The first answer to this write, if it was made; only its author gets it back."""
    row = (
        await conn.execute(
            sa.select(
                idempotency_keys.c.operation,
                idempotency_keys.c.actor_id,
                idempotency_keys.c.status_code,
                idempotency_keys.c.response,
            ).where(
                idempotency_keys.c.tenant_id == tenant_id,
                idempotency_keys.c.broadcast_id == broadcast_id,
            )
        )
    ).first()
    if row is None:
        return None
    if row.operation != operation_name or row.actor_id != actor_id:
        raise Conflict("this broadcastId was already used for another write", "broadcast_id_reused")
    return WriteOutcome(row.status_code, row.response, None)


async def add_usage(
    conn: AsyncConnection,
    tenant_id: str,
    moment: datetime,
    *,
    conversations: int = 0,
    comments: int = 0,
    messages: int = 0,
    bandwidth: int = 0,
    peak_connections: int = 0,
) -> None:
    """Add to a tenant's counters for the UTC day of `moment`; peak keeps the maximum."""
    table = usage_daily
    statement = upsert(conn, table).values(
        tenant_id=tenant_id,
        day=utc_day(moment),
        conversations_created=conversations,
        comments_created=comments,
        pubsub_message_count=messages,
        pubsub_bandwidth=bandwidth,
        peak_connections=peak_connections,
    )
    greatest = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "day"],
            set_={
                "conversations_created": table.c.conversations_created
                + statement.excluded.conversations_created,
                "comments_created": table.c.comments_created + statement.excluded.comments_created,
                "pubsub_message_count": table.c.pubsub_message_count
                + statement.excluded.pubsub_message_count,
                "pubsub_bandwidth": table.c.pubsub_bandwidth + statement.excluded.pubsub_bandwidth,
                "peak_connections": greatest(
                    table.c.peak_connections, statement.excluded.peak_connections
                ),
            },
        )
    )


async def upsert_user(conn: AsyncConnection, tenant_id: str, user: User, moment: datetime) -> None:
    statement = upsert(conn, users).values(
        tenant_id=tenant_id,
        id=user.id,
        name=user.name,
        avatar_url=user.avatar_url,
        role=user.role,
        updated_at=moment,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "id"],
            set_={
                "name": statement.excluded.name,
                "avatar_url": statement.excluded.avatar_url,
                "role": statement.excluded.role,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def new_id() -> str:
    """72 random bits in 12 URL-safe characters: ids appear several times in every event."""
    return secrets.token_urlsafe(9)


# --- the operations -------------------------------------------------------------------------


def create_chat(
    actor: User,
    broadcast_id: str,
    url_id: str,
    x: float,
    y: float,
    body: str,
    page_url: str | None,
    image_src: str | None,
) -> Operation:
    async def apply(tx: Tx) -> _Change:
        offset = await tx.take_offset(url_id)
        chat = Chat(
            id=new_id(),
            url_id=url_id,
            x=x,
            y=y,
            comment_count=1,
            resolved=False,
            author=actor,
            created_at=tx.now,
            updated_at=tx.now,
            version=1,
        )
        comment = Comment(
            id=new_id(), chat_id=chat.id, body=body, author=actor, created_at=tx.now, edited_at=None
        )
        await tx.conn.execute(
            sa.insert(chats).values(
                id=chat.id,
                tenant_id=tx.tenant.id,
                url_id=url_id,
                x=x,
                y=y,
                resolved=False,
                comment_count=1,
                author_id=actor.id,
                page_url=page_url,
                image_src=image_src,
                created_at=tx.now,
                updated_at=tx.now,
                version=1,
            )
        )
        await _insert_comment(tx, comment)
        return _Change(
            status=201,
            url_id=url_id,
            event=events.new_chat(tx.position(url_id), broadcast_id, chat, comment),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            conversations=1,
            comments=1,
        )

    return apply


def add_comment(actor: User, broadcast_id: str, chat_id: str, body: str) -> Operation:
    async def apply(tx: Tx) -> _Change:
        chat = await _locked_chat(tx, chat_id)
        offset = await tx.take_offset(chat.url_id)
        comment = Comment(
            id=new_id(), chat_id=chat.id, body=body, author=actor, created_at=tx.now, edited_at=None
        )
        await _insert_comment(tx, comment)
        chat = await _touch_chat(tx, chat, comment_count=chat.comment_count + 1)
        return _Change(
            status=201,
            url_id=chat.url_id,
            event=events.chat_updated(
                tx.position(chat.url_id), broadcast_id, "comment-added", chat, comment
            ),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            comments=1,
        )

    return apply


def update_chat(
    actor: User,
    broadcast_id: str,
    chat_id: str,
    x: float | None,
    y: float | None,
    resolved: bool | None,
) -> Operation:
    if x is None and y is None and resolved is None:
        raise Invalid("give at least one of x, y and resolved", "nothing_to_change")

    async def apply(tx: Tx) -> _Change:
        chat = await _locked_chat(tx, chat_id)
        permissions.may_manage_chat(actor, chat)
        offset = await tx.take_offset(chat.url_id)
        moved = x is not None or y is not None
        chat = await _touch_chat(
            tx,
            chat,
            x=chat.x if x is None else x,
            y=chat.y if y is None else y,
            resolved=chat.resolved if resolved is None else resolved,
        )
        change: events.Change = "moved" if moved else "resolved" if chat.resolved else "reopened"
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.chat_updated(tx.position(chat.url_id), broadcast_id, change, chat),
            answer={"chat": chat.to_json(), "offset": offset},
        )

    return apply


def edit_comment(actor: User, broadcast_id: str, comment_id: str, body: str) -> Operation:
    async def apply(tx: Tx) -> _Change:
        comment, chat = await _comment_and_chat(tx, comment_id)
        permissions.may_edit_comment(actor, comment)
        offset = await tx.take_offset(chat.url_id)
        comment = dataclasses.replace(comment, body=body, edited_at=tx.now)
        await tx.conn.execute(
            sa.update(comments)
            .where(comments.c.id == comment.id)
            .values(body=body, edited_at=tx.now)
        )
        chat = await _touch_chat(tx, chat)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.chat_updated(
                tx.position(chat.url_id), broadcast_id, "comment-edited", chat, comment
            ),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
        )

    return apply


def delete_comment(actor: User, broadcast_id: str, comment_id: str) -> Operation:
    async def apply(tx: Tx) -> _Change:
        comment, chat = await _comment_and_chat(tx, comment_id)
        permissions.may_delete_comment(actor, comment)
        offset = await tx.take_offset(chat.url_id)
        await tx.conn.execute(sa.delete(comments).where(comments.c.id == comment.id))
        chat = await _touch_chat(tx, chat, comment_count=chat.comment_count - 1)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.comment_deleted(tx.position(chat.url_id), broadcast_id, chat, comment.id),
            answer={"chat": chat.to_json(), "offset": offset},
        )

    return apply


def delete_chat(actor: User, broadcast_id: str, chat_id: str) -> Operation:
    async def apply(tx: Tx) -> _Change:
        chat = await _locked_chat(tx, chat_id)
        permissions.may_manage_chat(actor, chat)
        offset = await tx.take_offset(chat.url_id)
        await tx.conn.execute(sa.delete(comments).where(comments.c.chat_id == chat.id))
        await tx.conn.execute(sa.delete(chats).where(chats.c.id == chat.id))
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.chat_deleted(tx.position(chat.url_id), broadcast_id, chat.id),
            answer={"offset": offset},
        )

    return apply


async def _locked_chat(tx: Tx, chat_id: str) -> Chat:
    chat = await rows.load_chat(tx.conn, tx.tenant.id, chat_id, lock=True)
    if chat is None:
        raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
    return chat


async def _comment_and_chat(tx: Tx, comment_id: str) -> tuple[Comment, Chat]:
    comment = await rows.load_comment(tx.conn, tx.tenant.id, comment_id)
    if comment is None:
        raise NotFound(f"comment {comment_id!r} does not exist", "comment_not_found")
    return comment, await _locked_chat(tx, comment.chat_id)


async def _insert_comment(tx: Tx, comment: Comment) -> None:
    await tx.conn.execute(
        sa.insert(comments).values(
            id=comment.id,
            chat_id=comment.chat_id,
            tenant_id=tx.tenant.id,
            author_id=comment.author.id,
            body=comment.body,
            created_at=comment.created_at,
            edited_at=None,
        )
    )


async def _touch_chat(tx: Tx, chat: Chat, **changes: Any) -> Chat:
    """Apply `changes` to the chat row, bumping its version and updatedAt."""
    chat = dataclasses.replace(chat, updated_at=tx.now, version=chat.version + 1, **changes)
    await tx.conn.execute(
        sa.update(chats)
        .where(chats.c.id == chat.id)
        .values(
            x=chat.x,
            y=chat.y,
            resolved=chat.resolved,
            comment_count=chat.comment_count,
            updated_at=chat.updated_at,
            version=chat.version,
        )
    )
    return chat
