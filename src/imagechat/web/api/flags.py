"""POST /comments/{commentId}/flags: anyone signed in flags a comment for the moderators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from imagechat.domain import moderation
from imagechat.storage import writes
from imagechat.web.admin_schemas import FlagComment
from imagechat.web.api import bodies
from imagechat.web.api.deps import ERRORS, CommentId, TenantId, broadcast, perform, writer_of

router = APIRouter(tags=["moderation"], responses=ERRORS)


@router.post(
    "/comments/{commentId}/flags",
    status_code=201,
    summary="Flag a comment for the moderators, with a reason",
    openapi_extra=bodies.documented(FlagComment),
)
async def flag_comment(request: Request, tenantId: TenantId, commentId: CommentId) -> Response:
    tenant, actor = await writer_of(request, tenantId)
    body = await bodies.read(request, FlagComment)
    broadcast_id = broadcast(body.broadcastId)
    operation = writes.flag_comment(
        actor, broadcast_id, commentId, moderation.flag_reason(body.reason)
    )
    return await perform(
        request, tenant, actor, broadcast_id, f"flag_comment:{commentId}", operation
    )
