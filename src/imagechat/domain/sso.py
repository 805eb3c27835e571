"""Secure SSO: a site's backend signs its user's data with the tenant's API secret.

Every refusal is 401 with a code of its own: whatever is wrong with an SSO payload, the
caller is not signed in. The hash is keyed with the secret itself because PROTOCOL fixes it so
(site backends compute it); everything the server signs on its own uses derived keys
(domain/keys.py), so no token or key check can be replayed as an SSO hash or the reverse."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from imagechat.domain import limits, validation
from imagechat.domain.errors import Unauthorized
from imagechat.domain.models import Role, User


@dataclass(frozen=True, slots=True)
class SsoPayload:
    user_data_base64: str
    verification_hash: str
    # As the request sent it: the type is checked here, so that a string is refused like any
    # other bad payload (401) rather than as a malformed request.
    timestamp: object


def sign(secret: str, user_data_base64: str, timestamp: int) -> str:
    """The verificationHash a site's backend computes (also used by tests and the client)."""
    message = (str(timestamp) + user_data_base64).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def encode_user_data(data: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps(data)).decode()


def verify(secret: str, payload: SsoPayload, now_ms: int) -> User:
    """The user a valid payload names; Unauthorized (401) with a specific code otherwise."""
    timestamp = payload.timestamp
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise Unauthorized(
            "sso.timestamp must be a number of milliseconds", "sso_invalid_timestamp"
        )
    if len(payload.user_data_base64) > limits.MAX_SSO_USER_DATA:
        raise Unauthorized(
            f"sso.userDataJSONBase64 is longer than {limits.MAX_SSO_USER_DATA} characters",
            "sso_user_data_too_large",
        )
    if not payload.user_data_base64.isascii():
        raise _malformed("sso.userDataJSONBase64 is not valid base64")
    expected = sign(secret, payload.user_data_base64, timestamp)
    # Compare before parsing anything, so a forged payload is never even decoded.
    # (compare_digest refuses non-ASCII text with a TypeError: such a hash is simply wrong.)
    given = payload.verification_hash.lower()
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise Unauthorized("sso.verificationHash does not match", "sso_invalid_hash")
    age = now_ms - timestamp
    if age > limits.SSO_MAX_AGE_MS:
        raise Unauthorized("sso.timestamp is more than 2 days old", "sso_expired")
    if age < -limits.SSO_MAX_SKEW_MS:
        raise Unauthorized("sso.timestamp is in the future", "sso_future_timestamp")
    data = _decode(payload.user_data_base64)
    return _user(data)


def _malformed(message: str) -> Unauthorized:
    return Unauthorized(message, "sso_malformed_user_data")


def _decode(user_data_base64: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(user_data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("sso.userDataJSONBase64 is not valid base64") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _malformed("sso.userDataJSONBase64 does not hold JSON") from None
    if not isinstance(data, dict):
        raise _malformed("sso user data must be a JSON object")
    return data


def _user(data: dict[str, Any]) -> User:
    user_id = data.get("id")
    username = data.get("username")
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or str(user_id) == "":
        raise _malformed("sso user data needs an id (a string or a number)")
    if len(str(user_id)) > limits.MAX_USER_ID or not validation.storable(str(user_id)):
        raise _malformed(f"sso user id must be at most {limits.MAX_USER_ID} characters of text")
    if not isinstance(username, str) or not username.strip():
        raise _malformed("sso user data needs a username")
    if not validation.storable(username):
        raise _malformed("sso username must be text")
    avatar = data.get("avatar")
    if avatar is not None and (
        not isinstance(avatar, str)
        or len(avatar) > limits.MAX_AVATAR_URL
        or not validation.storable(avatar)
    ):
        raise _malformed("sso avatar must be a URL string")
    if avatar and urlsplit(avatar.strip()).scheme.lower() not in ("", "http", "https"):
        # Renderers show it as an image; javascript: and data: URLs have no business there.
        raise _malformed("sso avatar must be an http(s) URL")
    role: Role = "user"
    # Only JSON true counts: "true", 1 or "yes" from a careless backend grant nothing.
    if data.get("isAdmin") is True:
        role = "admin"
    elif data.get("isModerator") is True:
        role = "moderator"
    name = " ".join(username.split())[: limits.MAX_NAME]
    return User(id=f"sso:{user_id}", name=name, avatar_url=avatar or None, role=role)
