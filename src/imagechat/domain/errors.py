"""The failures a request can meet, each with its HTTP status and a stable snake_case code."""

from __future__ import annotations


class ImageChatError(Exception):
    """A failure that is answered with the Error shape; never a crash."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, str]:
        return {"status": "error", "code": self.code, "message": self.message}


class BadRequest(ImageChatError):
    status = 400
    code = "bad_request"


class Unauthorized(ImageChatError):
    status = 401
    code = "unauthorized"


class Forbidden(ImageChatError):
    status = 403
    code = "forbidden"


class NotFound(ImageChatError):
    status = 404
    code = "not_found"


class Conflict(ImageChatError):
    status = 409
    code = "conflict"


class TooLarge(ImageChatError):
    status = 413
    code = "too_large"


class Invalid(ImageChatError):
    status = 422
    code = "invalid"


class RateLimited(ImageChatError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
