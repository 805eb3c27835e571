"""GET /metrics: Prometheus text with imagechat_ names, off the public surface."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry import trace
from restkit import Api, assert_error

from imagechat.settings import Settings
from imagechat.storage.store import Store
from imagechat.web.app import create_app


async def test_metrics_answer_loopback_scrapers_with_write_latency_per_operation(
    api: Api,
) -> None:
    token = await api.guest()
    await api.create_chat(token)
    answer = await api.client.get("/metrics")  # httpx's ASGI client is 127.0.0.1
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    for name in (
        "imagechat_connections 0.0",
        "imagechat_subscriptions 0.0",
        "imagechat_channels 0.0",
        'imagechat_db_pool_in_use{pool="driver"} 0.0',
        'imagechat_db_pool_in_use{pool="sqlalchemy"} 0.0',
        "imagechat_deliveries_total 0.0",
        "imagechat_delivered_bytes_total 0.0",
        "imagechat_batch_frames_total 0.0",
        "imagechat_slow_consumer_closes_total 0.0",
        'imagechat_write_seconds_count{operation="create_chat"} 1.0',
        "imagechat_events_published_total 1.0",
        "imagechat_gap_repairs_total 0.0",
        "imagechat_resets_total 0.0",
        "imagechat_log_read_errors_total 0.0",
        "imagechat_head_checks_total",
        "imagechat_broker_up 1.0",
    ):
        assert name in text, name
    assert "delete_chat:" not in text  # one series per kind of write, not per chat


async def test_metrics_refuse_other_addresses_without_a_token(
    database_url: str, store: Store
) -> None:
    app = create_app(Settings(database_url=database_url, write_rate=0.0), store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert_error(await client.get("/metrics"), 403, "metrics_forbidden")
            bearer = {"Authorization": "Bearer anything"}
            assert_error(await client.get("/metrics", headers=bearer), 403, "metrics_forbidden")


async def test_metrics_want_the_token_when_one_is_set(make_app_client: Any, store: Store) -> None:
    async with make_app_client(store, metrics_token="s3cret") as client:
        assert_error(await client.get("/metrics"), 401, "unauthorized")
        wrong = {"Authorization": "Bearer nope"}
        assert_error(await client.get("/metrics", headers=wrong), 401, "unauthorized")
        assert_error(await client.get("/metrics", headers={"Authorization": "s3cret"}), 401)
        right = {"Authorization": "Bearer s3cret"}
        answer = await client.get("/metrics", headers=right)
        assert answer.status_code == 200 and "imagechat_connections" in answer.text


@pytest.mark.parametrize("enabled", [False, True])
async def test_fastapi_opentelemetry_runs_only_when_the_setting_asks(
    enabled: bool, database_url: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an OpenTelemetry SDK configured in the process, requests are traced only when
    `opentelemetry` is on; off (the default), that layer is skipped altogether."""
    asked: list[str] = []

    class Recording(trace.TracerProvider):  # an SDK's provider, as far as FastAPI can tell
        def get_tracer(self, name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
            asked.append(name)
            return trace.NoOpTracer()

    monkeypatch.setattr(trace, "get_tracer_provider", Recording)
    settings = Settings(database_url=database_url, opentelemetry=enabled)
    app = create_app(settings, store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
    assert bool(asked) is enabled
