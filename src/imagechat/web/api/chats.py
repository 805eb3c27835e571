"""Chats (markers): the snapshot of an image, one chat with its thread, and chat writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from imagechat.domain import limits, validation
from imagechat.storage import writes
from imagechat.web.api import bodies
from imagechat.web.api.deps import (
    ERRORS,
    BroadcastIdQuery,
    ChatId,
    CurrentTenant,
    Reader,
    TenantId,
    broadcast,
    perform,
    writer_of,
)
from imagechat.web.schemas import AddComment, CreateChat, UpdateChat
from imagechat.web.services import services

router = APIRouter(tags=["chats"], responses=ERRORS)

UrlId = Annotated[str, Query(max_length=limits.MAX_URL_ID * 4)]


@router.get("/chats", summary="Every chat of an image, with the offset they are current at")
async def list_chats(
    request: Request, tenant: CurrentTenant, _reader: Reader, urlId: UrlId
) -> dict[str, Any]:
    snapshot = await services(request).store.snapshot(tenant, validation.url_id(urlId))
    return {
        "urlId": snapshot.url_id,
        "epoch": snapshot.epoch,
        "offset": snapshot.offset,
        "chats": [chat.to_json() for chat in snapshot.chats],
        # Writes by people other than moderators are refused here (the site or the image).
        "readOnly": tenant.readonly or snapshot.locked,
    }


@router.post(
    "/chats",
    status_code=201,
    summary="Drop a marker with its first comment",
    openapi_extra=bodies.documented(CreateChat),
)
async def create_chat(request: Request, tenantId: TenantId) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    body = await bodies.read(request, CreateChat)
    broadcast_id = broadcast(body.broadcastId)
    operation = writes.create_chat(
        actor,
        broadcast_id,
        validation.url_id(body.urlId),
        validation.coordinate("x", body.x),
        validation.coordinate("y", body.y),
        validation.comment_body(body.comment),
        validation.optional_url("pageUrl", body.pageUrl, limits.MAX_PAGE_URL),
        validation.optional_url("imageSrc", body.imageSrc, limits.MAX_PAGE_URL),
    )
    return await perform(request, tenant, actor, broadcast_id, "create_chat", operation)


@router.get("/chats/{chatId}", summary="One chat and its comments")
async def get_chat(
    request: Request, tenant: CurrentTenant, _reader: Reader, chatId: ChatId
) -> dict[str, Any]:
    chat, comments = await services(request).store.chat_with_comments(tenant, chatId)
    return {"chat": chat.to_json(), "comments": [comment.to_json() for comment in comments]}


@router.post(
    "/chats/{chatId}/comments",
    status_code=201,
    summary="Reply in a chat's thread",
    openapi_extra=bodies.documented(AddComment),
)
async def add_comment(request: Request, tenantId: TenantId, chatId: ChatId) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    body = await bodies.read(request, AddComment)
    broadcast_id = broadcast(body.broadcastId)
    operation = writes.add_comment(
        actor, broadcast_id, chatId, validation.comment_body(body.comment)
    )
    return await perform(request, tenant, actor, broadcast_id, f"add_comment:{chatId}", operation)


@router.patch(
    "/chats/{chatId}",
    summary="Move, resolve or reopen a chat",
    openapi_extra=bodies.documented(UpdateChat),
)
async def update_chat(request: Request, tenantId: TenantId, chatId: ChatId) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    body = await bodies.read(request, UpdateChat)
    broadcast_id = broadcast(body.broadcastId)
    operation = writes.update_chat(
        actor,
        broadcast_id,
        chatId,
        None if body.x is None else validation.coordinate("x", body.x),
        None if body.y is None else validation.coordinate("y", body.y),
        body.resolved,
    )
    return await perform(request, tenant, actor, broadcast_id, f"update_chat:{chatId}", operation)


@router.delete("/chats/{chatId}", summary="Delete a chat and its thread")
async def delete_chat(
    request: Request,
    tenantId: TenantId,
    chatId: ChatId,
    broadcastId: BroadcastIdQuery,
) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    broadcast_id = broadcast(broadcastId)
    operation = writes.delete_chat(actor, broadcast_id, chatId)
    return await perform(request, tenant, actor, broadcast_id, f"delete_chat:{chatId}", operation)
