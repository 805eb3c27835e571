"""REST routes under /api/v1/{tenantId}, as docs/api.md lists them."""

from __future__ import annotations

from fastapi import APIRouter

from imagechat.web.api import admin, chats, comments, flags, history, sessions, usage
from imagechat.web.write_lane import lane_route

PREFIX = "/api/v1/{tenantId}"
router = APIRouter(prefix=PREFIX)
for module in (sessions, chats, comments, history, usage, flags, admin):
    router.include_router(module.router)

# The writes people make all day, served past FastAPI's layers (web/write_lane.py).
WRITE_LANE = (
    lane_route("POST", PREFIX + "/chats", chats.create_chat),
    lane_route("POST", PREFIX + "/chats/{chatId}/comments", chats.add_comment),
    lane_route("PATCH", PREFIX + "/chats/{chatId}", chats.update_chat),
    lane_route("DELETE", PREFIX + "/chats/{chatId}", chats.delete_chat, query=["broadcastId"]),
    lane_route("PATCH", PREFIX + "/comments/{commentId}", comments.edit_comment),
    lane_route(
        "DELETE", PREFIX + "/comments/{commentId}", comments.delete_comment, query=["broadcastId"]
    ),
    lane_route("POST", PREFIX + "/comments/{commentId}/flags", flags.flag_comment),
)
