"""The ASGI application: REST under /api/v1, the live socket at /ws, docs and static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

from imagechat import __version__
from imagechat.domain import limits
from imagechat.domain.usage import UsageDelta
from imagechat.realtime.broker import broker_from_url
from imagechat.realtime.hub import ChannelKey
from imagechat.realtime.service import LiveService
from imagechat.settings import Settings
from imagechat.storage.store import Store
from imagechat.web import admin as admin_console
from imagechat.web import api, errors
from imagechat.web.limits import BodyLimit
from imagechat.web.metrics import Metrics, metrics_endpoint
from imagechat.web.ratelimit import RateLimiter
from imagechat.web.services import Services
from imagechat.web.ws import LiveSocketEntry

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
IDEMPOTENCY_PURGE_SECONDS = 3600.0

_LANDING = """<!doctype html><meta charset="utf-8"><title>imagechat</title>
<h1>imagechat {version}</h1><p>The server is running. API docs: <a href="/docs">/docs</a>.
Run <code>imagechat serve --demo</code> for a demo page here.</p>"""


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """Build the app; the Store is opened (and SQLite migrated) at startup unless given."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or await Store.open(
            settings.database_url,
            run_migrations=Store.default_migrates(settings.database_url),
            max_replay=settings.max_replay,
        )
        live = _live_service(settings, opened)
        await live.start()
        limiter = RateLimiter(settings.write_rate, settings.write_burst)
        app.state.services = Services(settings, opened, live, limiter)
        purge = asyncio.create_task(_purge_idempotency(opened))
        try:
            yield
        finally:
            purge.cancel()
            await live.close()
            if store is None:
                await opened.close()

    app = FastAPI(
        title="imagechat",
        version=__version__,
        description="Live image chat: markers and threads on any image. See docs/api.md.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(api.router)
    app.state.metrics = Metrics(app)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/admin", admin_console.router, name="admin")
    app.mount("/widget", StaticFiles(directory=STATIC / "widget", check_dir=False), name="widget")
    app.mount("/demo", StaticFiles(directory=STATIC / "demo", check_dir=False), name="demo")

    @app.get("/", include_in_schema=False)
    async def index() -> Any:
        demo_page = STATIC / "demo" / "index.html"
        if settings.demo and demo_page.exists():
            return FileResponse(demo_page)
        return HTMLResponse(_LANDING.format(version=__version__))

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    _document_error_shape(app)
    # Embedded on other sites: any origin may call; each tenant's allowlist is enforced per
    # request (web/auth.py), which CORS alone could not do per tenant.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        max_age=600,
    )
    app.add_middleware(BodyLimit, max_bytes=limits.MAX_REQUEST_BYTES)
    app.add_middleware(LiveSocketEntry)  # outermost of ours: /ws skips the rest
    return app


def _live_service(settings: Settings, store: Store) -> LiveService:
    async def read_range(
        tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        return await store.events_between(tenant_id, url_id, epoch, after, upto)

    async def read_heads(keys: list[ChannelKey]) -> dict[ChannelKey, tuple[str, int]]:
        return await store.heads(keys)

    async def save_usage(deltas: list[UsageDelta]) -> None:
        await store.add_usage(deltas)

    return LiveService(
        broker_from_url(settings.broker_url),
        read_range,
        read_heads,
        save_usage,
        max_batch=settings.max_batch,
        queue_limit=settings.queue_limit,
        batch_window=settings.batch_window_ms / 1000,
        presence_interval=settings.presence_interval,
        usage_flush_interval=settings.usage_flush_seconds,
        gap_check_interval=settings.gap_check_seconds,
    )


async def _purge_idempotency(store: Store) -> None:
    while True:
        await asyncio.sleep(IDEMPOTENCY_PURGE_SECONDS)
        try:
            await store.purge_idempotency(timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS))
        except Exception:
            log.exception("purging old idempotency keys failed")


def _document_error_shape(app: FastAPI) -> None:
    """Add the Error schema that every route's error responses refer to."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "string", "enum": ["error"]},
                "code": {"type": "string", "description": "snake_case reason"},
                "message": {"type": "string"},
            },
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
