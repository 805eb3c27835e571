"""Value rules for everything a client sends. Each failure names the field and the rule."""

from __future__ import annotations

import math
import re
import uuid

from imagechat.domain import limits
from imagechat.domain.errors import Invalid

# fullmatch, not match: "$" also matches before a trailing newline.
_TENANT_ID = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{limits.MAX_TENANT_ID - 1}}}")
_ORIGIN = re.compile(r"https?://[a-z0-9.\-\[\]:]+")


def tenant_id(value: str) -> str:
    if not _TENANT_ID.fullmatch(value):
        raise Invalid(
            f"tenantId must be 1..{limits.MAX_TENANT_ID} characters of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit",
            "invalid_tenant_id",
        )
    return value


def api_secret(value: str) -> str:
    """A tenant's API secret as an operator chooses it (the database keeps 128 characters)."""
    if not 1 <= len(value) <= limits.MAX_API_SECRET or not value.isprintable():
        raise Invalid(
            f"the API secret must be 1..{limits.MAX_API_SECRET} printable characters",
            "invalid_api_secret",
        )
    return value


def storable(value: str) -> bool:
    """Text a database can keep: no NUL (PostgreSQL refuses it) and no lone surrogates (JSON
    escapes like "\\ud800" decode to them, and they cannot be encoded as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def url_id(value: str) -> str:
    if not 1 <= len(value) <= limits.MAX_URL_ID:
        raise Invalid(f"urlId must be 1..{limits.MAX_URL_ID} characters", "invalid_url_id")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) or not storable(value):
        raise Invalid("urlId must be text without control characters", "invalid_url_id")
    return value


def coordinate(name: str, value: float) -> float:
    """A percentage of the image's width or height: finite and within 0..100."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{name} must be a number", "invalid_coordinate")
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise Invalid(f"{name} must be a finite percentage between 0 and 100", "invalid_coordinate")
    return float(value)


def comment_body(value: str) -> str:
    """The comment as given (the protocol stores it verbatim) once its trimmed length fits."""
    if not storable(value):
        raise Invalid("comment must be text without NUL or lone surrogates", "invalid_comment")
    # Length first, cheaply, so an oversized body is refused before any further work on it.
    if len(value) > limits.MAX_COMMENT_BYTES or len(value.encode()) > limits.MAX_COMMENT_BYTES:
        raise Invalid(
            f"comment must be at most {limits.MAX_COMMENT_BYTES} bytes as sent, whitespace "
            "included",
            "comment_too_large",
        )
    trimmed = len(value.strip())
    if trimmed == 0:
        raise Invalid("comment must not be empty", "invalid_comment")
    if trimmed > limits.MAX_COMMENT:
        raise Invalid(f"comment must be at most {limits.MAX_COMMENT} characters", "invalid_comment")
    return value


def display_name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= limits.MAX_NAME or not storable(name):
        raise Invalid(f"name must be 1..{limits.MAX_NAME} characters of text", "invalid_name")
    return name


def broadcast_id(value: str) -> str:
    """A UUID in its canonical lowercase form, so retries match however they are spelled."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise Invalid("broadcastId must be a UUID", "invalid_broadcast_id") from None


def optional_url(name: str, value: str | None, max_length: int) -> str | None:
    if value is None:
        return None
    if len(value) > max_length or not storable(value):
        raise Invalid(f"{name} must be a string of at most {max_length} characters", "invalid_url")
    return value


def origin(value: str) -> str:
    """An origin as browsers send it: scheme://host[:port], no path, no trailing slash."""
    normalized = value.rstrip("/").lower()
    if not _ORIGIN.fullmatch(normalized):
        raise Invalid(f"origin {value!r} must look like https://example.com", "invalid_origin")
    return normalized
