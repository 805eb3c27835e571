"""The write routes taken straight from our middlewares to their endpoints.

On its way to an endpoint a request crosses uvicorn, our middlewares (security headers, CORS,
the body limit) and then FastAPI's own layers: its exception middleware, its exit stack, its
nested routers and its parameter resolution. For a write those layers cost about as much CPU
as the write's whole transaction, and the write routes need none of them: their endpoints read
and validate their own bodies (api/bodies.py) and their parameters are plain strings.

`WriteLane`, the innermost of our middlewares, matches those routes by method and path and
calls their endpoints itself, answering failures with the app's own exception handlers. A
request it is unsure of (a parameter FastAPI would refuse, a missing or repeated query
parameter, a trailing slash) goes on to FastAPI unchanged, so every answer stays the one the
API documents. The routes stay registered with FastAPI too: the OpenAPI document and any
other way of calling the app see them as before.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from imagechat.domain.limits import MAX_ID_PARAMETER

Endpoint = Callable[..., Awaitable[Response]]

_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class LaneRoute:
    method: str
    path: str  # as FastAPI knows it: "/api/v1/{tenantId}/chats/{chatId}"
    endpoint: Endpoint
    query: tuple[str, ...]  # required query parameters, passed as keyword arguments
    pattern: re.Pattern[str]


def lane_route(
    method: str, path: str, endpoint: Endpoint, *, query: Sequence[str] = ()
) -> LaneRoute:
    """A write route: `path` with `{name}` parameters, each one path segment."""
    literals = _PARAMETER.split(path)  # literal, name, literal, name, ..., literal
    regex = "".join(
        re.escape(part) if n % 2 == 0 else f"(?P<{part}>[^/]+)" for n, part in enumerate(literals)
    )
    pattern = re.compile(f"^{regex}$")
    return LaneRoute(method, path, endpoint, tuple(query), pattern)


class WriteLane:
    def __init__(self, app: ASGIApp, routes: Sequence[LaneRoute] = ()) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.match(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        route, params = found
        scope["path_params"] = params
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request, **params)
        except Exception as error:
            handler = _handler_for(scope["app"], error)
            if handler is None:
                raise  # as on FastAPI's way: the server error layer answers 500
            response = await handler(request, error)
        await response(scope, receive, send)

    def match(self, scope: Scope) -> tuple[LaneRoute, dict[str, str]] | None:
        """The route and its parameters, or None to leave the request to FastAPI."""
        method, path = scope["method"], scope["path"]
        for route in self.routes:
            if route.method != method:
                continue
            matched = route.pattern.match(path)
            if matched is None:
                continue
            params = matched.groupdict()
            if any(
                len(value) > MAX_ID_PARAMETER
                for name, value in params.items()
                if name != "tenantId"
            ):
                return None
            if route.query:
                given = _query(scope, route.query)
                if given is None:
                    return None
                params.update(given)
            return route, params
        return None


def _query(scope: Scope, names: tuple[str, ...]) -> dict[str, str] | None:
    """Each named query parameter given exactly once and no longer than FastAPI allows."""
    raw = scope.get("query_string", b"").decode("latin-1")
    found: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name in names:
            if name in found or len(value) > MAX_ID_PARAMETER:
                return None
            found[name] = value
    return found if len(found) == len(names) else None


def _handler_for(
    app: Any, error: Exception
) -> Callable[[Request, Any], Awaitable[Response]] | None:
    """The app's handler for this kind of error, as FastAPI's exception layer would pick it."""
    handlers = app.exception_handlers
    for kind in type(error).__mro__:
        if kind is Exception:
            return None  # the catch-all belongs to the outermost layer
        handler = handlers.get(kind)
        if handler is not None:
            return handler  # type: ignore[no-any-return]
    return None
