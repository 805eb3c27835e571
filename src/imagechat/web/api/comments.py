"""Editing and deleting one comment."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from imagechat.domain import validation
from imagechat.storage import writes
from imagechat.web.api import bodies
from imagechat.web.api.deps import (
    ERRORS,
    BroadcastIdQuery,
    CommentId,
    TenantId,
    broadcast,
    perform,
    writer_of,
)
from imagechat.web.schemas import EditComment

router = APIRouter(tags=["comments"], responses=ERRORS)


@router.patch(
    "/comments/{commentId}",
    summary="Edit one's own comment",
    openapi_extra=bodies.documented(EditComment),
)
async def edit_comment(request: Request, tenantId: TenantId, commentId: CommentId) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    body = await bodies.read(request, EditComment)
    broadcast_id = broadcast(body.broadcastId)
    operation = writes.edit_comment(
        actor, broadcast_id, commentId, validation.comment_body(body.comment)
    )
    return await perform(
        request, tenant, actor, broadcast_id, f"edit_comment:{commentId}", operation
    )


@router.delete("/comments/{commentId}", summary="Delete a comment")
async def delete_comment(
    request: Request,
    tenantId: TenantId,
    commentId: CommentId,
    broadcastId: BroadcastIdQuery,
) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    broadcast_id = broadcast(broadcastId)
    operation = writes.delete_comment(actor, broadcast_id, commentId)
    return await perform(
        request, tenant, actor, broadcast_id, f"delete_comment:{commentId}", operation
    )
