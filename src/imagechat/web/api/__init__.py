"""REST routes under /api/v1/{tenantId}, as docs/api.md lists them."""

from __future__ import annotations

from fastapi import APIRouter

from imagechat.web.api import admin, chats, comments, flags, history, sessions, usage

router = APIRouter(prefix="/api/v1/{tenantId}")
for module in (sessions, chats, comments, history, usage, flags, admin):
    router.include_router(module.router)
