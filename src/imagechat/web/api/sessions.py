"""POST /sessions: a signed, expiring token for a guest or a secure-SSO user."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from imagechat.domain import limits, sso, tokens, validation
from imagechat.domain.errors import Forbidden, Invalid
from imagechat.domain.models import User
from imagechat.domain.times import to_rfc3339
from imagechat.web.api.deps import ERRORS, CurrentTenant, limit_rate
from imagechat.web.schemas import SessionRequest

router = APIRouter(tags=["sessions"], responses=ERRORS)


@router.post("/sessions", summary="Start a session (guest or secure SSO)")
async def create_session(
    request: Request, tenant: CurrentTenant, body: SessionRequest
) -> dict[str, Any]:
    limit_rate(request, tenant)
    if (body.sso is None) == (body.guest is None):
        raise Invalid("give exactly one of 'sso' and 'guest'", "invalid_session_request")
    if body.sso is not None:
        payload = sso.SsoPayload(
            body.sso.userDataJSONBase64, body.sso.verificationHash, body.sso.timestamp
        )
        user = sso.verify(tenant.api_secret, payload, int(time.time() * 1000))
    else:
        assert body.guest is not None
        if tenant.private:
            raise Forbidden("this site is private: guests may not sign in", "guests_not_allowed")
        name = validation.display_name(body.guest.name)
        # Short ids on purpose: they travel in every event this user causes.
        user = User(id=f"g:{secrets.token_urlsafe(6)}", name=name, avatar_url=None, role="guest")
    expires_at = int(time.time()) + limits.SESSION_TTL_SECONDS
    # No row for the user yet: authors are recorded with their first write, so a visitor who
    # only reads (every guest who opens a page) leaves nothing behind.
    token = tokens.issue(tenant.api_secret, tokens.Session(tenant.id, user, expires_at))
    return {
        "token": token,
        "user": user.to_json(),
        "expiresAt": to_rfc3339(datetime.fromtimestamp(expires_at, UTC)),
    }
