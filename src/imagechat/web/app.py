"""The ASGI application: REST under /api/v1, the live socket at /ws, docs and static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

from imagechat import __version__
from imagechat.domain import limits
from imagechat.domain.usage import UsageDelta
from imagechat.realtime.broker import Broker, broker_from_url
from imagechat.realtime.hub import ChannelKey
from imagechat.realtime.service import LiveService
from imagechat.settings import Settings
from imagechat.storage.locks import ClusterLock
from imagechat.storage.store import Store
from imagechat.web import admin as admin_console
from imagechat.web import api, apidocs, errors
from imagechat.web.cors import TenantCors
from imagechat.web.headers import SecurityHeaders, StaticPages, shipped_page_policy
from imagechat.web.limits import BodyLimit
from imagechat.web.metrics import Metrics, metrics_endpoint
from imagechat.web.ratelimit import limiter_for
from imagechat.web.services import Services, services
from imagechat.web.write_lane import WriteLane
from imagechat.web.ws import LiveSocketEntry

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
IDEMPOTENCY_PURGE_SECONDS = 3600.0

_LANDING = """<!doctype html><meta charset="utf-8"><title>imagechat</title>
<h1>imagechat {version}</h1><p>The server is running. API docs: <a href="/docs">/docs</a>.
Run <code>imagechat serve --demo</code> for a demo page here.</p>"""


def create_app(
    settings: Settings, store: Store | None = None, *, broker: Broker | None = None
) -> FastAPI:
    """Build the app; the Store is opened (and SQLite migrated) at startup unless given, and
    the broker is the one `settings.broker_url` names unless given."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or await Store.open(
            settings.database_url,
            run_migrations=Store.default_migrates(settings.database_url),
            max_replay=settings.max_replay,
        )
        live = _live_service(settings, opened, broker)
        await live.start()
        limiter = limiter_for(settings.write_rate, settings.write_burst, settings.broker_url)
        limiter.start()
        app.state.services = Services(settings, opened, live, limiter)
        # Jobs that need one runner in the whole deployment hold the `jobs` lock to run.
        jobs_lock = ClusterLock(opened.engine, "imagechat:jobs")
        jobs = [
            asyncio.create_task(
                _once_per_cluster(jobs_lock, IDEMPOTENCY_PURGE_SECONDS, _purge_idempotency(opened))
            )
        ]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await live.close()
            await limiter.close()
            await jobs_lock.release()
            if store is None:
                await opened.close()

    app = FastAPI(
        title="imagechat",
        version=__version__,
        description="Live image chat: markers and threads on any image. See docs/api.md.",
        lifespan=lifespan,
        docs_url=None,  # apidocs serves /docs with its assets from this server, not a CDN
        redoc_url=None,
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    errors.install(app)
    app.include_router(api.router)
    app.state.metrics = Metrics(app)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/admin", admin_console.router, name="admin")
    app.mount("/widget", StaticFiles(directory=STATIC / "widget", check_dir=False), name="widget")
    app.mount("/demo", StaticPages(directory=STATIC / "demo", check_dir=False), name="demo")
    apidocs.install(app)

    @app.get("/", include_in_schema=False)
    async def index() -> Any:
        demo_page = STATIC / "demo" / "index.html"
        if settings.demo and demo_page.exists():
            policy = shipped_page_policy(demo_page.read_text())
            return FileResponse(demo_page, headers={"Content-Security-Policy": policy})
        return HTMLResponse(_LANDING.format(version=__version__))

    @app.get("/healthz", include_in_schema=False)
    async def health(request: Request) -> dict[str, object]:
        """200 while the process serves; `degraded` (with why) while the broker is away.

        Still 200 when degraded: writes and this node's viewers are fine, and a balancer that
        took every node out during a Redis outage would turn it into a full one.
        """
        live = services(request).live
        state = live.health()
        body: dict[str, object] = {
            "status": "ok" if state.ok else "degraded",
            "broker": live.broker.name,
            "connections": len(live.connections),
            # Events this node had to read from the log because the broker did not bring them.
            "repairs": live.hub.repairs,
        }
        if not state.ok:
            body["reason"] = state.reason
        return body

    _document_error_shape(app)
    app.add_middleware(WriteLane, routes=api.WRITE_LANE)  # innermost of ours
    app.add_middleware(BodyLimit, max_bytes=limits.MAX_REQUEST_BYTES)
    # Outside BodyLimit, so that browsers may read its 413 too.
    app.add_middleware(TenantCors)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LiveSocketEntry)  # outermost of ours: /ws skips the rest
    return app


def _live_service(settings: Settings, store: Store, broker: Broker | None) -> LiveService:
    async def read_range(
        tenant_id: str, url_id: str, epoch: str, after: int, upto: int
    ) -> list[bytes] | None:
        return await store.events_between(tenant_id, url_id, epoch, after, upto)

    async def read_heads(keys: list[ChannelKey]) -> dict[ChannelKey, tuple[str, int]]:
        return await store.heads(keys)

    async def save_usage(deltas: list[UsageDelta]) -> None:
        await store.add_usage(deltas)

    return LiveService(
        broker or broker_from_url(settings.broker_url, outbox_limit=settings.outbox_limit),
        read_range,
        read_heads,
        save_usage,
        max_batch=settings.max_batch,
        queue_limit=settings.queue_limit,
        batch_window=settings.batch_window_ms / 1000,
        presence_interval=settings.presence_interval,
        usage_flush_interval=settings.usage_flush_seconds,
        gap_check_interval=settings.gap_check_seconds,
        repair_grace=settings.repair_grace_ms / 1000,
    )


Job = Callable[[], Awaitable[object]]


async def _once_per_cluster(lock: ClusterLock, every: float, job: Job) -> None:
    """Run `job` every `every` seconds on the one node holding `lock` (any node, on SQLite)."""
    name = getattr(job, "__name__", "job")
    while True:
        await asyncio.sleep(every)
        try:
            if await lock.acquire():
                await job()
        except Exception:
            log.exception("periodic %s failed", name)


def _purge_idempotency(store: Store) -> Job:
    async def purge_idempotency() -> None:
        await store.purge_idempotency(timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS))

    return purge_idempotency


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
