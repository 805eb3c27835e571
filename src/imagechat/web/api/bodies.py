"""Request bodies of the write routes, read and validated straight from the bytes.

FastAPI would read them for us, at a cost that shows on the hottest routes; this keeps its
rules (JSON when the Content-Type says so or says nothing, 400 when the body is not a JSON
object, 422 in the same shape for wrong fields) and documents the body in the OpenAPI schema.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from imagechat.domain.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


async def read(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if not raw or not _is_json(request.headers.get("content-type")):
        raise BadRequest("the request body must be a JSON object", "malformed_body")
    try:
        data = json.loads(raw)
    except ValueError:  # also undecodable bytes
        raise BadRequest("the request body is not valid JSON", "malformed_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object", "malformed_body")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads `model` itself: its request body, required."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
