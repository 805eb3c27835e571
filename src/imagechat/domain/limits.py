"""Bounds on every value a client sends; the REST schema and the validators share them."""

from __future__ import annotations

MAX_REQUEST_BYTES = 64 * 1024
MAX_URL_ID = 512
MAX_COMMENT = 2000  # characters after trimming
# Bytes of UTF-8 as sent, before trimming: the body is stored and fanned out verbatim, so
# whitespace padding must not buy a bigger event.
MAX_COMMENT_BYTES = 8192
MAX_NAME = 64
MAX_USER_ID = 128  # an SSO user's id, as the site's backend names it
MAX_PAGE_URL = 2048
MAX_AVATAR_URL = 2048
MAX_TENANT_ID = 64
# A chat or comment id in a path, a broadcastId or an epoch in a query string.
MAX_ID_PARAMETER = 64
MAX_API_SECRET = 128
MAX_SSO_USER_DATA = 8192
MAX_WS_MESSAGE_BYTES = 8192
SSO_MAX_AGE_MS = 2 * 24 * 3600 * 1000
SSO_MAX_SKEW_MS = 5 * 60 * 1000
SESSION_TTL_SECONDS = 7 * 24 * 3600
IDEMPOTENCY_TTL_SECONDS = 24 * 3600  # the protocol promises at least 24 h
# What one image can hold, so that a snapshot (GET /chats) and a thread stay bounded.
MAX_CHATS_PER_IMAGE = 500
MAX_COMMENTS_PER_CHAT = 1000
