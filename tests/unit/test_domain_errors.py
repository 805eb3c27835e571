"""Domain errors: each carries its HTTP status and a snake_case code into the Error shape."""

from __future__ import annotations

import pytest

from imagechat.domain import errors


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        (errors.BadRequest, 400, "bad_request"),
        (errors.Unauthorized, 401, "unauthorized"),
        (errors.Forbidden, 403, "forbidden"),
        (errors.NotFound, 404, "not_found"),
        (errors.Conflict, 409, "conflict"),
        (errors.TooLarge, 413, "too_large"),
        (errors.Invalid, 422, "invalid"),
    ],
)
def test_status_and_default_code(kind: type[errors.ImageChatError], status: int, code: str) -> None:
    error = kind("it went wrong")
    assert (error.status, error.code, error.message) == (status, code, "it went wrong")
    assert error.to_json() == {"status": "error", "code": code, "message": "it went wrong"}
    assert isinstance(error, errors.ImageChatError)


def test_specific_code_overrides_only_that_instance() -> None:
    error = errors.Forbidden("nope", "readonly")
    assert error.to_json() == {"status": "error", "code": "readonly", "message": "nope"}
    assert errors.Forbidden("again").code == "forbidden"


def test_rate_limited_carries_retry_after() -> None:
    error = errors.RateLimited("slow down", 7)
    assert (error.status, error.code, error.retry_after) == (429, "rate_limited", 7)
