"""Every failure answered in the Error shape with its status; never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from imagechat.domain.errors import ImageChatError, RateLimited
from imagechat.web.headers import EVERY_ANSWER
from imagechat.web.responses import error_response

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ImageChatError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _domain(_request: Request, exc: ImageChatError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code, exc.message, headers)


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"


async def _validation(_request: Request, exc: RequestValidationError) -> Response:
    """Unparseable JSON is malformed (400); well-formed JSON with wrong fields is invalid (422)."""
    errors = list(exc.errors())
    for error in errors:
        if error.get("type") == "json_invalid":
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        # Only the body itself not being an object is malformed; a nested field that should
        # be an object and is not ({"guest": "Bob"}) is an invalid value like any other.
        if tuple(error.get("loc", ())) == ("body",) and error.get("type") in (
            "model_attributes_type",
            "missing",
        ):
            return error_response(400, "malformed_body", "the request body must be a JSON object")
    details = "; ".join(f"{_where(e)}: {e.get('msg', 'invalid')}" for e in errors[:5])
    return error_response(422, "invalid_request", details)


async def _http(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc.__cause__, ImageChatError):
        # FastAPI wraps whatever fails while reading the body (such as BodyLimit's TooLarge on
        # a chunked upload) in a 400; answer with the real reason instead.
        return await _domain(request, exc.__cause__)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return error_response(
        500, "internal_error", "the server failed; the error was logged", EVERY_ANSWER
    )
