"""Editing and deleting one comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from imagechat.domain import validation
from imagechat.storage import writes
from imagechat.web.api.deps import ERRORS, CurrentTenant, Writer, broadcast, perform
from imagechat.web.schemas import EditComment

router = APIRouter(tags=["comments"], responses=ERRORS)

CommentId = Annotated[str, Path(max_length=64)]


@router.patch("/comments/{commentId}", summary="Edit one's own comment")
async def edit_comment(
    request: Request,
    tenant: CurrentTenant,
    actor: Writer,
    commentId: CommentId,
    body: EditComment,
) -> Response:
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
    tenant: CurrentTenant,
    actor: Writer,
    commentId: CommentId,
    broadcastId: Annotated[str, Query(max_length=64)],
) -> Response:
    broadcast_id = broadcast(broadcastId)
    operation = writes.delete_comment(actor, broadcast_id, commentId)
    return await perform(
        request, tenant, actor, broadcast_id, f"delete_comment:{commentId}", operation
    )
