"""Request bodies as the OpenAPI document shows them. Types are checked here; values (ranges,
lengths) by domain/validation.py, so each rule lives in one place and reads the same."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from imagechat.domain import limits


def _bounds(default: Any = ..., **schema: Any) -> Any:
    return Field(default, json_schema_extra=schema)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SsoBody(_Body):
    userDataJSONBase64: str
    verificationHash: str
    # Any JSON value passes here; domain/sso.py refuses a non-integer with 401 like any other
    # bad SSO payload. The schema still tells clients what to send.
    timestamp: Annotated[
        object,
        WithJsonSchema(
            {"type": "integer", "description": "milliseconds since the epoch, at most 2 days old"}
        ),
    ]


class GuestBody(_Body):
    name: str = _bounds(minLength=1, maxLength=limits.MAX_NAME)


class SessionRequest(_Body):
    sso: SsoBody | None = None
    guest: GuestBody | None = None


_PERCENT = {"minimum": 0, "maximum": 100}


class CreateChat(_Body):
    urlId: str = _bounds(minLength=1, maxLength=limits.MAX_URL_ID)
    x: float = _bounds(**_PERCENT)
    y: float = _bounds(**_PERCENT)
    comment: str = _bounds(minLength=1, maxLength=limits.MAX_COMMENT)
    broadcastId: str = _bounds(format="uuid")
    pageUrl: str | None = _bounds(None, maxLength=limits.MAX_PAGE_URL)
    imageSrc: str | None = _bounds(None, maxLength=limits.MAX_PAGE_URL)


class AddComment(_Body):
    comment: str = _bounds(minLength=1, maxLength=limits.MAX_COMMENT)
    broadcastId: str = _bounds(format="uuid")


class UpdateChat(_Body):
    broadcastId: str = _bounds(format="uuid")
    x: float | None = _bounds(None, **_PERCENT)
    y: float | None = _bounds(None, **_PERCENT)
    resolved: bool | None = None


class EditComment(AddComment):
    pass
