"""What the routes need, built once per app and kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from imagechat.realtime.service import LiveService
from imagechat.settings import Settings
from imagechat.storage.store import Store
from imagechat.web.ratelimit import RateLimiter


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    live: LiveService
    write_limiter: RateLimiter


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
