"""The admin API under /admin: what the operator console does, for a site's own backend too.

Moderators and admins (an SSO session with that role) and the API secret (`X-API-Key`, an
admin) may call it; settings and the secret are for admins alone. Moderation of an image
(hide, restore, lock) is a write like any other: one transaction, an offset, a live event.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from imagechat.domain import moderation, sso, validation
from imagechat.domain.errors import ImageChatError, Invalid, Unauthorized
from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.storage.admin_reads import STATUSES, Search
from imagechat.web import auth
from imagechat.web.admin_schemas import BanUser, LockImage, Moderate, SiteSettings, SsoHash
from imagechat.web.api import bodies, site_read_only
from imagechat.web.api.deps import (
    ERRORS,
    ChatId,
    CommentId,
    CurrentTenant,
    TenantId,
    broadcast,
    perform,
)
from imagechat.web.api.deps import writer_of as _tenant_and_caller
from imagechat.web.metrics import live_now, metrics_of
from imagechat.web.services import services

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERRORS)


def staff(request: Request, tenant: Tenant) -> User:
    """The caller, if a moderator or an admin (401 without credentials, 403 otherwise)."""
    actor = auth.caller(request, tenant)
    if actor is None:
        raise Unauthorized("the admin API needs X-API-Key or a moderator's session", "unauthorized")
    moderation.may_moderate(actor)
    return actor


def admin(request: Request, tenant: Tenant) -> User:
    actor = staff(request, tenant)
    moderation.may_administer(actor)
    return actor


async def _staff_writer(request: Request, tenant_id: str) -> tuple[Tenant, User]:
    tenant, actor = await _tenant_and_caller(request, tenant_id)
    moderation.may_moderate(actor)
    return tenant, actor


# --- reading ------------------------------------------------------------------------------------


@router.get("/conversations", summary="Every conversation of the site, newest first")
async def conversations(
    request: Request,
    tenant: CurrentTenant,
    q: Annotated[str, Query(max_length=200)] = "",
    author: Annotated[str, Query(max_length=200)] = "",
    urlId: Annotated[str, Query(max_length=512)] = "",
    status: Annotated[str, Query(max_length=16)] = "all",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    perPage: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    staff(request, tenant)
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", "invalid_status")
    for value in (q, author, urlId):
        if not validation.storable(value):
            raise Invalid("search text must be plain text", "invalid_search")
    search = Search(q.strip(), author.strip(), urlId.strip(), status, page, perPage)
    return await services(request).store.admin_reads.conversations(tenant, search)


@router.get("/chats/{chatId}", summary="One conversation with hidden comments and flags")
async def thread(request: Request, tenant: CurrentTenant, chatId: ChatId) -> dict[str, Any]:
    staff(request, tenant)
    if not validation.storable(chatId):
        raise Invalid("chatId must be plain text", "invalid_search")
    return await services(request).store.admin_reads.thread(tenant, chatId)


@router.get("/flags", summary="The moderation queue: flagged comments, most flagged first")
async def flagged(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    staff(request, tenant)
    return {"comments": await services(request).store.admin_reads.flagged(tenant)}


@router.get("/live", summary="Now, on this node: connections, most viewed images, events/s")
async def live(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    staff(request, tenant)
    found = live_now(services(request).live, tenant.id)
    return {**found, "eventsPerSecond": metrics_of(request).events_per_second()}


# --- moderating an image (live events) ----------------------------------------------------------


@router.post(
    "/comments/{commentId}/hide",
    summary="Hide a comment from everyone but moderators (event: comment-hidden)",
    openapi_extra=bodies.documented(Moderate),
)
async def hide(request: Request, tenantId: TenantId, commentId: CommentId) -> Response:
    tenant, actor = await _staff_writer(request, tenantId)
    body = await bodies.read(request, Moderate)
    bid = broadcast(body.broadcastId)
    operation = writes.hide_comment(actor, bid, commentId)
    return await perform(request, tenant, actor, bid, f"hide_comment:{commentId}", operation)


@router.post(
    "/comments/{commentId}/restore",
    summary="Show a hidden comment again (event: comment-restored)",
    openapi_extra=bodies.documented(Moderate),
)
async def restore(request: Request, tenantId: TenantId, commentId: CommentId) -> Response:
    tenant, actor = await _staff_writer(request, tenantId)
    body = await bodies.read(request, Moderate)
    bid = broadcast(body.broadcastId)
    operation = writes.restore_comment(actor, bid, commentId)
    return await perform(request, tenant, actor, bid, f"restore_comment:{commentId}", operation)


@router.post(
    "/comments/{commentId}/dismiss",
    summary="Clear a comment's flags and leave it as it is (no event)",
    openapi_extra=bodies.documented(Moderate),
)
async def dismiss(request: Request, tenantId: TenantId, commentId: CommentId) -> Response:
    tenant, actor = await _staff_writer(request, tenantId)
    body = await bodies.read(request, Moderate)
    bid = broadcast(body.broadcastId)
    operation = writes.dismiss_flags(actor, commentId)
    return await perform(request, tenant, actor, bid, f"dismiss_flags:{commentId}", operation)


@router.post(
    "/images/read-only",
    summary="Lock or unlock one image (event: image-updated)",
    openapi_extra=bodies.documented(LockImage),
)
async def lock(request: Request, tenantId: TenantId) -> Response:
    tenant, actor = await _staff_writer(request, tenantId)
    body = await bodies.read(request, LockImage)
    bid = broadcast(body.broadcastId)
    url_id = validation.url_id(body.urlId)
    operation = writes.lock_image(actor, bid, url_id, body.readOnly)
    return await perform(request, tenant, actor, bid, "lock_image", operation)


# --- people ------------------------------------------------------------------------------------


@router.get("/bans", summary="People whose writes are refused")
async def bans(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    staff(request, tenant)
    found = await services(request).store.moderation.bans(tenant)
    return {"bans": [ban.to_json() for ban in found]}


@router.post(
    "/bans",
    status_code=201,
    summary="Ban a user: their writes are refused with 403 banned",
    openapi_extra=bodies.documented(BanUser),
)
async def ban(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    actor = staff(request, tenant)
    body = await bodies.read(request, BanUser)
    user_id = moderation.user_id(body.userId)
    reason = moderation.ban_reason(body.reason)
    found = await services(request).store.moderation.ban(tenant, user_id, reason, actor.id)
    return found.to_json()


@router.delete("/bans/{userId}", summary="Lift a ban")
async def unban(
    request: Request, tenant: CurrentTenant, userId: Annotated[str, Path(max_length=200)]
) -> dict[str, Any]:
    staff(request, tenant)
    await services(request).store.moderation.unban(tenant, moderation.user_id(userId))
    return {"userId": userId, "banned": False}


# --- the site (admins) ---------------------------------------------------------------------------


async def settings_of(request: Request, tenant: Tenant) -> dict[str, Any]:
    hide_after = await services(request).store.moderation.auto_hide_flags(tenant)
    return {
        "origins": list(tenant.origins),
        "private": tenant.private,
        "readOnly": tenant.readonly,
        "autoHideFlags": hide_after,
    }


@router.get("/settings", summary="The site's settings")
async def get_settings(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    admin(request, tenant)
    return await settings_of(request, tenant)


@router.patch(
    "/settings",
    summary="Change origins, private, read-only or the auto-hide threshold",
    openapi_extra=bodies.documented(SiteSettings),
)
async def change_settings(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    actor = admin(request, tenant)
    body = await bodies.read(request, SiteSettings)
    store = services(request).store
    read_only_changed = await store.moderation.update_settings(
        tenant,
        origins=body.origins,
        private=body.private,
        readonly=body.readOnly,
        auto_hide_flags=None
        if body.autoHideFlags is None
        else moderation.auto_hide_flags(body.autoHideFlags),
    )
    if read_only_changed:
        await site_read_only.announce(request, tenant, actor)
    return await settings_of(request, await auth.load_tenant(store, tenant.id))


@router.post("/secret", summary="Rotate the API secret (old sessions stop working)")
async def rotate_secret(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    admin(request, tenant)
    return {"apiSecret": await services(request).store.rotate_secret(tenant.id)}


@router.post(
    "/sso-hash",
    summary="The verificationHash a secure-SSO payload needs (a helper for integrators)",
    openapi_extra=bodies.documented(SsoHash),
)
async def sso_hash(request: Request, tenant: CurrentTenant) -> dict[str, Any]:
    admin(request, tenant)
    body = await bodies.read(request, SsoHash)
    return sso_check(tenant, body.userDataJSONBase64, body.timestamp)


def sso_check(tenant: Tenant, user_data: str, timestamp: int) -> dict[str, Any]:
    """The hash expected for a payload, and the user it names (or why it names none)."""
    if not user_data.isascii():
        raise Invalid("userDataJSONBase64 must be base64 text", "invalid_sso")
    expected = sso.sign(tenant.api_secret, user_data, timestamp)
    payload = sso.SsoPayload(user_data, expected, timestamp)
    try:
        user: dict[str, Any] | None = sso.verify(tenant.api_secret, payload, timestamp).to_json()
        problem = None
    except ImageChatError as error:  # a payload the server would refuse: say why
        user, problem = None, error.message
    return {"verificationHash": expected, "user": user, "problem": problem}
