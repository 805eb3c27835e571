"""Request bodies of moderation and the admin API, as the OpenAPI document shows them.
Types are checked here; values by domain/moderation.py and domain/validation.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from imagechat.domain import moderation


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class FlagComment(_Body):
    reason: str = Field(json_schema_extra={"minLength": 1, "maxLength": moderation.MAX_FLAG_REASON})
    broadcastId: str


class Moderate(_Body):
    broadcastId: str


class LockImage(_Body):
    urlId: str
    readOnly: bool
    broadcastId: str


class BanUser(_Body):
    userId: str
    reason: str = Field("", json_schema_extra={"maxLength": moderation.MAX_BAN_REASON})


class SiteSettings(_Body):
    origins: list[str] | None = None
    private: bool | None = None
    readOnly: bool | None = None
    autoHideFlags: int | None = Field(
        None, json_schema_extra={"minimum": 0, "maximum": moderation.MAX_AUTO_HIDE_FLAGS}
    )


class SsoHash(_Body):
    userDataJSONBase64: str
    timestamp: int
