"""Secure SSO: a site's backend signs its user's data with the tenant's API secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from imagechat.domain import limits, validation
from imagechat.domain.errors import BadRequest, Unauthorized
from imagechat.domain.models import Role, User


@dataclass(frozen=True, slots=True)
class SsoPayload:
    user_data_base64: str
    verification_hash: str
    timestamp: int


def sign(secret: str, user_data_base64: str, timestamp: int) -> str:
    """The verificationHash a site's backend computes (also used by tests and the client)."""
    message = (str(timestamp) + user_data_base64).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def encode_user_data(data: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps(data)).decode()


def verify(secret: str, payload: SsoPayload, now_ms: int) -> User:
    """The user a valid payload names; Unauthorized for a bad hash or time, BadRequest for junk."""
    if len(payload.user_data_base64) > limits.MAX_SSO_USER_DATA:
        raise BadRequest("sso.userDataJSONBase64 is too long", "malformed_sso")
    if not payload.user_data_base64.isascii():
        raise BadRequest("sso.userDataJSONBase64 is not valid base64", "malformed_sso")
    expected = sign(secret, payload.user_data_base64, payload.timestamp)
    # Compare before parsing anything, so a forged payload is never even decoded.
    # (compare_digest refuses non-ASCII text with a TypeError: such a hash is simply wrong.)
    given = payload.verification_hash.lower()
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise Unauthorized("sso.verificationHash does not match", "sso_invalid_hash")
    age = now_ms - payload.timestamp
    if age > limits.SSO_MAX_AGE_MS:
        raise Unauthorized("sso.timestamp is more than 2 days old", "sso_expired")
    if age < -limits.SSO_MAX_SKEW_MS:
        raise Unauthorized("sso.timestamp is in the future", "sso_future_timestamp")
    data = _decode(payload.user_data_base64)
    return _user(data)


def _decode(user_data_base64: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(user_data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("sso.userDataJSONBase64 is not valid base64", "malformed_sso") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("sso.userDataJSONBase64 does not hold JSON", "malformed_sso") from None
    if not isinstance(data, dict):
        raise BadRequest("sso user data must be a JSON object", "malformed_sso")
    return data


def _user(data: dict[str, Any]) -> User:
    user_id = data.get("id")
    username = data.get("username")
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or str(user_id) == "":
        raise BadRequest("sso user data needs an id", "malformed_sso")
    if len(str(user_id)) > limits.MAX_USER_ID or not validation.storable(str(user_id)):
        raise BadRequest(
            f"sso user id must be at most {limits.MAX_USER_ID} characters of text", "malformed_sso"
        )
    if not isinstance(username, str) or not username.strip():
        raise BadRequest("sso user data needs a username", "malformed_sso")
    if not validation.storable(username):
        raise BadRequest("sso username must be text", "malformed_sso")
    avatar = data.get("avatar")
    if avatar is not None and (
        not isinstance(avatar, str)
        or len(avatar) > limits.MAX_AVATAR_URL
        or not validation.storable(avatar)
    ):
        raise BadRequest("sso avatar must be a URL string", "malformed_sso")
    role: Role = "user"
    if data.get("isAdmin") is True:
        role = "admin"
    elif data.get("isModerator") is True:
        role = "moderator"
    name = " ".join(username.split())[: limits.MAX_NAME]
    return User(id=f"sso:{user_id}", name=name, avatar_url=avatar or None, role=role)
