"""What clients send over /ws, parsed and checked without any I/O."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from imagechat.domain import limits


class ProtocolError(Exception):
    """A bad client message. `fatal` ones close the connection with 4400."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        tenant_id: str | None = None,
        url_id: str | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.tenant_id = tenant_id
        self.url_id = url_id
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class Subscribe:
    tenant_id: str
    url_id: str
    epoch: str | None
    offset: int | None
    token: str | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    tenant_id: str
    url_id: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientMessage = Subscribe | Unsubscribe | Ping


def parse(raw: str | bytes) -> ClientMessage:
    """One client message; the size limit counts bytes (UTF-8), whatever the characters."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if size > limits.MAX_WS_MESSAGE_BYTES:
        raise ProtocolError("too_large", "message is larger than 8 KiB", fatal=True)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_request", "message is not JSON", fatal=True) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "message must be a JSON object")
    kind = data.get("type")
    if kind == "ping":
        return Ping()
    if kind not in ("subscribe", "unsubscribe"):
        raise ProtocolError("bad_request", f"unknown message type {kind!r}")
    tenant_id, url_id = data.get("tenantId"), data.get("urlId")
    if not isinstance(tenant_id, str) or not isinstance(url_id, str):
        raise ProtocolError(
            "bad_request",
            "tenantId and urlId must be strings",
            tenant_id=_str_or_none(tenant_id),
            url_id=_str_or_none(url_id),
        )
    if not 1 <= len(url_id) <= limits.MAX_URL_ID or not 1 <= len(tenant_id) <= limits.MAX_TENANT_ID:
        raise ProtocolError(
            "bad_request", "tenantId or urlId has a bad length", tenant_id=tenant_id, url_id=url_id
        )
    if kind == "unsubscribe":
        return Unsubscribe(tenant_id, url_id)
    epoch, offset, token = data.get("epoch"), data.get("offset"), data.get("token")
    bad = (
        (epoch is not None and not isinstance(epoch, str))
        or (
            offset is not None
            and (not isinstance(offset, int) or isinstance(offset, bool) or offset < 0)
        )
        or (token is not None and not isinstance(token, str))
    )
    if bad:
        raise ProtocolError(
            "bad_request",
            "epoch must be a string, offset a whole number >= 0, token a string",
            tenant_id=tenant_id,
            url_id=url_id,
        )
    return Subscribe(tenant_id, url_id, epoch, offset, token)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
