"""Every mutation, each in ONE transaction with its offset, event row, idempotency record and
usage counters. Nothing is published for a change that did not commit.

The operations are written sans I/O (storage/steps.py): one body of rules runs on SQLite (in
the writer thread, a whole transaction per hop) and on PostgreSQL (asyncpg), see drivers.py.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from imagechat.domain import events, limits, moderation, permissions
from imagechat.domain.errors import Conflict, Invalid, NotFound
from imagechat.domain.events import EncodedEvent
from imagechat.domain.models import Chat, Comment, Tenant, User
from imagechat.domain.times import now, utc_day
from imagechat.storage import rows
from imagechat.storage import write_sql as sql
from imagechat.storage.steps import Row, Steps, every, insert, one, run


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
    event: dict[str, Any] | None  # None: a change nobody watches live (a flag, a dismissal)
    answer: dict[str, Any]
    chat_id: str | None = None  # the chat the event is about
    comment_id: str | None = None  # set when the event carries this comment's words
    conversations: int = 0
    comments: int = 0


class Tx:
    """One write transaction: the tenant, its moment, and the channel head it has locked."""

    def __init__(
        self, tenant: Tenant, moment: datetime, max_replay: int, actor: User | None = None
    ) -> None:
        self.tenant = tenant
        self.actor = actor
        self.now = moment
        self.max_replay = max_replay
        self.channel_id = 0
        self.locked = False
        self.epoch = ""
        self.offset = 0

    def take_offset(self, url_id: str, chats: int = 0) -> Steps[int]:
        """Lock the channel's head and take its next offset; `chats` changes its chat count."""
        head = yield from one(sql.BUMP_HEAD, chats, self.tenant.id, url_id)
        if head is None:
            head = yield from one(sql.NEW_HEAD, self.tenant.id, url_id, self.tenant.epoch, chats)
        if head is None:  # a concurrent first writer created it: now it can be bumped
            head = yield from one(sql.BUMP_HEAD, chats, self.tenant.id, url_id)
        assert head is not None
        if self.actor is not None:
            moderation.may_write_image(self.actor, bool(head["locked"]))
        self.channel_id, self.epoch = int(head["id"]), str(head["epoch"])
        self.locked = bool(head["locked"])
        self.offset = int(head["top_offset"])
        if head["chat_count"] > limits.MAX_CHATS_PER_IMAGE:
            raise Invalid(
                f"an image holds at most {limits.MAX_CHATS_PER_IMAGE} conversations",
                "too_many_chats",
            )
        yield from self._trim(int(head["history_floor"]))
        return self.offset

    def position(self, url_id: str) -> events.Position:
        """Where this write's event stands (after `take_offset`)."""
        return events.Position(self.tenant.id, url_id, self.epoch, self.offset)

    def _trim(self, floor: int) -> Steps[None]:
        """Keep the log of this channel to the recovery window, a slice at a time.

        The floor comes from the head this transaction holds locked, in its current epoch,
        so no reset or other writer can move it meanwhile.
        """
        slack = max(16, self.max_replay // 8)
        if self.offset - floor <= self.max_replay + slack:
            return
        new_floor = self.offset - self.max_replay
        yield from run(sql.TRIM_EVENTS, self.channel_id, new_floor)
        yield from run(sql.RAISE_FLOOR, new_floor, self.channel_id, new_floor)


Operation = Callable[[Tx], Steps[_Change]]


def transaction(
    tenant: Tenant,
    actor: User,
    broadcast_id: str,
    operation_name: str,
    operation: Operation,
    *,
    record_user: bool,
    max_replay: int,
) -> Steps[WriteOutcome]:
    """Apply `operation` once per (tenant, broadcastId); a retry gets the first answer back.

    `record_user` upserts the actor's name, avatar and role, which authors are shown with;
    the Store skips it when this process already wrote the very same values.
    """
    found = yield from one(sql.OUTCOME_AND_BAN, tenant.id, actor.id, tenant.id, broadcast_id)
    assert found is not None  # the query always answers one row
    if found["operation"] is not None:
        return _outcome(found, actor.id, operation_name)
    moment = now()
    permissions.may_write(tenant, actor)
    moderation.not_banned(bool(found["banned"]))
    if record_user:
        yield from upsert_user(tenant.id, actor, moment)
    tx = Tx(tenant, moment, max_replay, actor)
    change = yield from operation(tx)
    body = orjson.dumps(change.answer)
    event = None
    if change.event is not None:
        data = events.encode(change.event)
        yield from insert(
            sql.INSERT_EVENT,
            tx.channel_id,
            tx.offset,
            tx.epoch,
            change.event["type"],
            broadcast_id,
            change.chat_id,
            change.comment_id,
            data,
            moment,
        )
        event = EncodedEvent(tenant.id, change.url_id, tx.epoch, tx.offset, data)
    yield from insert(
        sql.INSERT_OUTCOME,
        tenant.id,
        broadcast_id,
        operation_name,
        actor.id,
        change.status,
        body,
        moment,
    )
    if change.conversations or change.comments:
        yield from insert(
            sql.ADD_CHANNEL_USAGE,
            tx.channel_id,
            utc_day(moment),
            tenant.id,
            change.conversations,
            change.comments,
        )
    return WriteOutcome(change.status, body, event)


def stored_outcome(
    tenant_id: str, actor_id: str, broadcast_id: str, operation_name: str
) -> Steps[WriteOutcome | None]:
    """The first answer to this write, if it was made; only its author gets it back."""
    row = yield from one(sql.STORED_OUTCOME, tenant_id, broadcast_id)
    if row is None:
        return None
    return _outcome(row, actor_id, operation_name)


def _outcome(row: Row, actor_id: str, operation_name: str) -> WriteOutcome:
    if row["operation"] != operation_name or row["actor_id"] != actor_id:
        raise Conflict("this broadcastId was already used for another write", "broadcast_id_reused")
    return WriteOutcome(int(row["status_code"]), bytes(row["response"]), None)


def upsert_user(tenant_id: str, user: User, moment: datetime) -> Steps[None]:
    yield from insert(
        sql.UPSERT_USER, tenant_id, user.id, user.name, user.avatar_url, user.role, moment
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
    def apply(tx: Tx) -> Steps[_Change]:
        offset = yield from tx.take_offset(url_id, chats=1)
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
        yield from insert(
            sql.INSERT_CHAT,
            chat.id,
            tx.tenant.id,
            url_id,
            x,
            y,
            False,
            1,
            actor.id,
            page_url,
            image_src,
            tx.now,
            tx.now,
            1,
        )
        yield from _insert_comment(tx, comment)
        return _Change(
            status=201,
            url_id=url_id,
            event=events.new_chat(tx.position(url_id), broadcast_id, chat, comment),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            chat_id=chat.id,
            comment_id=comment.id,
            conversations=1,
            comments=1,
        )

    return apply


def add_comment(actor: User, broadcast_id: str, chat_id: str, body: str) -> Operation:
    def apply(tx: Tx) -> Steps[_Change]:
        chat = yield from _locked_chat(tx, chat_id)
        if chat.comment_count >= limits.MAX_COMMENTS_PER_CHAT:
            raise Invalid(
                f"a conversation holds at most {limits.MAX_COMMENTS_PER_CHAT} comments",
                "too_many_comments",
            )
        offset = yield from tx.take_offset(chat.url_id)
        comment = Comment(
            id=new_id(), chat_id=chat.id, body=body, author=actor, created_at=tx.now, edited_at=None
        )
        chat = yield from _touch_chat(tx, chat, comment_count=chat.comment_count + 1)
        yield from _insert_comment(tx, comment)
        return _Change(
            status=201,
            url_id=chat.url_id,
            event=events.chat_updated(
                tx.position(chat.url_id), broadcast_id, "comment-added", chat, comment
            ),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            chat_id=chat.id,
            comment_id=comment.id,
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

    def apply(tx: Tx) -> Steps[_Change]:
        chat = yield from _locked_chat(tx, chat_id)
        permissions.may_manage_chat(actor, chat)
        offset = yield from tx.take_offset(chat.url_id)
        before = chat
        chat = yield from _touch_chat(
            tx,
            chat,
            x=chat.x if x is None else x,
            y=chat.y if y is None else y,
            resolved=chat.resolved if resolved is None else resolved,
        )
        change = _what_changed(before, chat, moving=x is not None or y is not None)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.chat_updated(tx.position(chat.url_id), broadcast_id, change, chat),
            answer={"chat": chat.to_json(), "offset": offset},
            chat_id=chat.id,
        )

    return apply


def _what_changed(before: Chat, after: Chat, *, moving: bool) -> events.Change:
    """One word for a PATCH: `updated` when it both moved the chat and (re)solved it."""
    moved = (before.x, before.y) != (after.x, after.y)
    settled = before.resolved != after.resolved
    if moved and settled:
        return "updated"
    if moved or (moving and not settled):
        return "moved"
    return "resolved" if after.resolved else "reopened"


def edit_comment(actor: User, broadcast_id: str, comment_id: str, body: str) -> Operation:
    def apply(tx: Tx) -> Steps[_Change]:
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        permissions.may_edit_comment(actor, comment)
        state = yield from one(sql.COMMENT_STATE, comment.id)
        moderation.may_edit_hidden(actor, state is not None and bool(state["hidden"]))
        offset = yield from tx.take_offset(chat.url_id)
        comment = dataclasses.replace(comment, body=body, edited_at=tx.now)
        yield from run(sql.UPDATE_COMMENT, body, tx.now, comment.id)
        # The words it replaces go from the log too: a replay shows only the newest.
        yield from _rewrite_words(tx, chat.id, comment.id, body)
        chat = yield from _touch_chat(tx, chat)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.chat_updated(
                tx.position(chat.url_id), broadcast_id, "comment-edited", chat, comment
            ),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            chat_id=chat.id,
            comment_id=comment.id,
        )

    return apply


def delete_comment(actor: User, broadcast_id: str, comment_id: str) -> Operation:
    def apply(tx: Tx) -> Steps[_Change]:
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        permissions.may_delete_comment(actor, comment)
        if chat.comment_count <= 1:
            # A chat with no comment left does not exist: the last one takes the chat along.
            return (yield from _drop_chat(tx, chat, broadcast_id, answer_chat_id=True))
        offset = yield from tx.take_offset(chat.url_id)
        if (yield from run(sql.DELETE_COMMENT, comment.id)) != 1:
            raise NotFound(f"comment {comment_id!r} does not exist", "comment_not_found")
        yield from _rewrite_words(tx, chat.id, comment.id, "")
        chat = yield from _touch_chat(tx, chat, comment_count=chat.comment_count - 1)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=events.comment_deleted(tx.position(chat.url_id), broadcast_id, chat, comment.id),
            answer={"chat": chat.to_json(), "offset": offset},
            chat_id=chat.id,
        )

    return apply


def delete_chat(actor: User, broadcast_id: str, chat_id: str) -> Operation:
    def apply(tx: Tx) -> Steps[_Change]:
        chat = yield from _locked_chat(tx, chat_id)
        permissions.may_manage_chat(actor, chat)
        return (yield from _drop_chat(tx, chat, broadcast_id, answer_chat_id=False))

    return apply


def _drop_chat(tx: Tx, chat: Chat, broadcast_id: str, *, answer_chat_id: bool) -> Steps[_Change]:
    offset = yield from tx.take_offset(chat.url_id, chats=-1)
    yield from _rewrite_words(tx, chat.id, None, "")
    yield from run(sql.DELETE_CHAT_COMMENTS, chat.id)
    yield from run(sql.DELETE_CHAT, chat.id)
    answer: dict[str, Any] = {"offset": offset}
    if answer_chat_id:
        answer = {"chatId": chat.id, "offset": offset}
    return _Change(
        status=200,
        url_id=chat.url_id,
        event=events.chat_deleted(tx.position(chat.url_id), broadcast_id, chat.id),
        answer=answer,
        chat_id=chat.id,
    )


# --- reading and changing rows ----------------------------------------------------------------


def _locked_chat(tx: Tx, chat_id: str) -> Steps[Chat]:
    """The chat, its row locked until commit: writers of one chat queue here, in turn."""
    row = None
    if _storable(chat_id):
        row = yield from one(sql.LOCKED_CHAT, tx.tenant.id, chat_id)
    if row is None:
        raise NotFound(f"chat {chat_id!r} does not exist", "chat_not_found")
    return rows.chat(row)


def _comment_and_chat(tx: Tx, comment_id: str) -> Steps[tuple[Comment, Chat]]:
    """The comment and its chat, read AFTER locking the chat.

    Reading the comment first and locking later would let two deletes of one comment both
    see it: the second reads it again once the first has committed, and finds it gone.
    """
    missing = NotFound(f"comment {comment_id!r} does not exist", "comment_not_found")
    if not _storable(comment_id):
        raise missing
    found = yield from one(sql.COMMENT_CHAT, tx.tenant.id, comment_id)
    if found is None:
        raise missing
    try:
        chat = yield from _locked_chat(tx, found["chat_id"])
    except NotFound:
        raise missing from None
    row = yield from one(sql.COMMENT, tx.tenant.id, comment_id)
    if row is None:
        raise missing
    comment = rows.comment(row)
    return comment, chat


def _insert_comment(tx: Tx, comment: Comment) -> Steps[None]:
    yield from insert(
        sql.INSERT_COMMENT,
        comment.id,
        comment.chat_id,
        tx.tenant.id,
        comment.author.id,
        comment.body,
        comment.created_at,
    )


def _touch_chat(tx: Tx, chat: Chat, **changes: Any) -> Steps[Chat]:
    """Apply `changes` to the chat row, bumping its version and updatedAt."""
    chat = dataclasses.replace(chat, updated_at=tx.now, version=chat.version + 1, **changes)
    yield from run(
        sql.UPDATE_CHAT,
        chat.x,
        chat.y,
        chat.resolved,
        chat.comment_count,
        chat.updated_at,
        chat.version,
        chat.id,
    )
    return chat


def _rewrite_words(tx: Tx, chat_id: str, comment_id: str | None, body: str) -> Steps[None]:
    """Put `body` in place of a comment's words (or every comment's of the chat, when
    `comment_id` is None) in the stored events and in the stored answers to their writes:
    deleted words are never sent again, by a replay, `/events` or a retried write."""
    if comment_id is None:
        carriers = yield from every(sql.CHAT_TEXT_EVENTS, tx.channel_id, chat_id)
    else:
        carriers = yield from every(sql.COMMENT_TEXT_EVENTS, tx.channel_id, chat_id, comment_id)
    for row in carriers:
        target = str(row["comment_id"])
        payload = reworded(bytes(row["payload"]), target, body)
        if payload is not None:
            yield from run(sql.REWRITE_EVENT, payload, tx.channel_id, row["offset"])
        stored = yield from one(sql.OUTCOME_RESPONSE, tx.tenant.id, row["broadcast_id"])
        if stored is not None:
            response = reworded(bytes(stored["response"]), target, body)
            if response is not None:
                yield from run(sql.REWRITE_OUTCOME, response, tx.tenant.id, row["broadcast_id"])


def reworded(data: bytes, comment_id: str, body: str) -> bytes | None:
    """`data` (an event or an answer) with the comment's body replaced; None if not in it."""
    document = orjson.loads(data)
    comment = document.get("comment") if isinstance(document, dict) else None
    if not isinstance(comment, dict) or comment.get("id") != comment_id:
        return None
    if comment.get("body") == body:
        return None
    comment["body"] = body
    return orjson.dumps(document)


def _storable(value: str) -> bool:
    """Ids we make are URL-safe; one with a NUL (PostgreSQL refuses it) names nothing."""
    return "\x00" not in value


# --- moderation -------------------------------------------------------------------------------


def flag_comment(actor: User, broadcast_id: str, comment_id: str, reason: str) -> Operation:
    """Someone flags a comment; enough flags (a site setting) hide it until a moderator looks."""

    def apply(tx: Tx) -> Steps[_Change]:
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        added = yield from run(sql.ADD_FLAG, tx.tenant.id, comment.id, actor.id, reason, tx.now)
        if added != 1:
            raise Conflict("you already flagged this comment", "already_flagged")
        counted = yield from one(sql.COUNT_FLAG, comment.id)
        assert counted is not None
        setting = yield from one(sql.AUTO_HIDE_FLAGS, tx.tenant.id)
        threshold = int(setting["auto_hide_flags"]) if setting is not None else 0
        # The answer is the same either way: a flagger learns nothing of the others.
        answer = {"commentId": comment.id, "flagged": True}
        if bool(counted["hidden"]) or not threshold or int(counted["flag_count"]) < threshold:
            return _Change(status=201, url_id=chat.url_id, event=None, answer=answer)
        # Flags hide it, but stay for a moderator to decide on (the queue still shows them).
        # The hiding is the site's doing, not the flagger's: a locked image does not stop it.
        tx.actor = None
        yield from tx.take_offset(chat.url_id)
        yield from run(sql.AUTO_HIDE, True, comment.id)
        change = yield from _hidden(tx, chat, comment.id, broadcast_id)
        return dataclasses.replace(change, status=201, answer=answer)

    return apply


def hide_comment(actor: User, broadcast_id: str, comment_id: str) -> Operation:
    """A moderator hides a comment: gone for everyone but moderators, at once, live."""

    def apply(tx: Tx) -> Steps[_Change]:
        moderation.may_moderate(actor)
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        if (yield from _is_hidden(comment.id)):
            raise Conflict("this comment is hidden already", "already_hidden")
        yield from tx.take_offset(chat.url_id)
        yield from run(sql.SET_HIDDEN, True, comment.id)
        yield from run(sql.DELETE_FLAGS, tx.tenant.id, comment.id)
        return (yield from _hidden(tx, chat, comment.id, broadcast_id))

    return apply


def restore_comment(actor: User, broadcast_id: str, comment_id: str) -> Operation:
    """A moderator brings a hidden comment back; its words travel again in the event."""

    def apply(tx: Tx) -> Steps[_Change]:
        moderation.may_moderate(actor)
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        if not (yield from _is_hidden(comment.id)):
            raise Conflict("this comment is not hidden", "not_hidden")
        offset = yield from tx.take_offset(chat.url_id)
        yield from run(sql.SET_HIDDEN, False, comment.id)
        yield from run(sql.DELETE_FLAGS, tx.tenant.id, comment.id)
        chat = yield from _touch_chat(tx, chat)
        return _Change(
            status=200,
            url_id=chat.url_id,
            event=moderation.comment_restored(
                tx.position(chat.url_id), broadcast_id, chat, comment
            ),
            answer={"chat": chat.to_json(), "comment": comment.to_json(), "offset": offset},
            chat_id=chat.id,
            comment_id=comment.id,  # the event carries its words again
        )

    return apply


def dismiss_flags(actor: User, comment_id: str) -> Operation:
    """A moderator finds nothing wrong: the flags go, the comment stays as it is."""

    def apply(tx: Tx) -> Steps[_Change]:
        moderation.may_moderate(actor)
        comment, chat = yield from _comment_and_chat(tx, comment_id)
        yield from run(sql.CLEAR_FLAGS, comment.id)
        yield from run(sql.DELETE_FLAGS, tx.tenant.id, comment.id)
        return _Change(status=200, url_id=chat.url_id, event=None, answer={"commentId": comment.id})

    return apply


def lock_image(actor: User, broadcast_id: str, url_id: str, read_only: bool) -> Operation:
    """A moderator makes one image read-only (or writable again), live for open widgets."""

    def apply(tx: Tx) -> Steps[_Change]:
        moderation.may_moderate(actor)
        yield from tx.take_offset(url_id)
        yield from run(sql.LOCK_IMAGE, read_only, tx.channel_id)
        # The answer says the lock; viewers learn whether their writes are refused (unlocking
        # an image of a read-only site leaves it read-only for them).
        return (yield from _image_updated(tx, url_id, broadcast_id, read_only, read_only))

    return apply


def _image_updated(
    tx: Tx, url_id: str, broadcast_id: str, locked: bool, answered: bool | None = None
) -> Steps[_Change]:
    """An image's `image-updated`, saying what its snapshot's readOnly would say now: whether
    people's writes on it are refused, by its lock or by the site's state as committed now
    (not as the request's cached tenant has it: when a lock and a site switch race, each
    image's last event says the state that won). The write's answer says `answered` as its
    readOnly, or the same as the event."""
    site = yield from one(sql.SITE_READONLY, tx.tenant.id)
    refused = locked or bool(site is not None and site["readonly"])
    return _Change(
        status=200,
        url_id=url_id,
        event=moderation.image_updated(tx.position(url_id), broadcast_id, refused),
        answer={
            "urlId": url_id,
            "readOnly": refused if answered is None else answered,
            "offset": tx.offset,
        },
    )


def announce_site_read_only(actor: User, broadcast_id: str, url_id: str) -> Operation:
    """The site went read-only or writable again: an `image-updated` for one image, so that
    its open widgets (and any that recover from an earlier offset) learn it without reload."""

    def apply(tx: Tx) -> Steps[_Change]:
        moderation.may_administer(actor)
        yield from tx.take_offset(url_id)
        return (yield from _image_updated(tx, url_id, broadcast_id, tx.locked))

    return apply


def _is_hidden(comment_id: str) -> Steps[bool]:
    state = yield from one(sql.COMMENT_STATE, comment_id)
    return state is not None and bool(state["hidden"])


def _hidden(tx: Tx, chat: Chat, comment_id: str, broadcast_id: str) -> Steps[_Change]:
    """The event of a comment going out of sight (after `take_offset`). Its words leave the
    log like deleted ones, so no replay shows them; a restore sends them again."""
    yield from _rewrite_words(tx, chat.id, comment_id, "")
    chat = yield from _touch_chat(tx, chat)
    return _Change(
        status=200,
        url_id=chat.url_id,
        event=moderation.comment_hidden(tx.position(chat.url_id), broadcast_id, chat, comment_id),
        answer={"chat": chat.to_json(), "commentId": comment_id, "offset": tx.offset},
        chat_id=chat.id,
    )
