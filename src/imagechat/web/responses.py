"""Responses that send already-encoded JSON as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


class JSONBytes(Response):
    """JSON rendered with orjson (or bytes already encoded, such as a stored answer)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONBytes(
        {"status": "error", "code": code, "message": message}, status_code=status, headers=headers
    )
