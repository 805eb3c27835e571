"""Prometheus metrics (`GET /metrics`) and the few live numbers the console shows.

Each app keeps a registry of its own (tests build many apps in one process). What the live
layer holds (connections, subscriptions, channels) is read when scraped, by a collector, so
the hot paths pay nothing for it; write latency is observed around each committed write.
"""

from __future__ import annotations

import collections
import hmac
import ipaddress
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from imagechat.domain.errors import Forbidden, Unauthorized

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RATE_WINDOW_SECONDS = 10.0
TOP_IMAGES = 10


class _LiveCollector(Collector):
    """Connections, subscriptions and watched channels, counted at scrape time."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        services = getattr(self._app.state, "services", None)
        connections = GaugeMetricFamily(
            "imagechat_connections", "Open live connections on this node"
        )
        subscriptions = GaugeMetricFamily(
            "imagechat_subscriptions", "Channel subscriptions held by live connections"
        )
        channels = GaugeMetricFamily(
            "imagechat_channels", "Channels (images) watched by someone on this node"
        )
        pool = GaugeMetricFamily(
            "imagechat_db_pool_in_use",
            "Database connections busy right now, per pool: driver (event log, snapshots, "
            "writes) and sqlalchemy (tenants, usage, bans, settings)",
            labels=["pool"],
        )
        if services is not None:
            live = services.live
            connections.add_metric([], len(live.connections))
            subscriptions.add_metric(
                [], sum(len(connection.subscriptions) for connection in live.connections)
            )
            channels.add_metric([], len(live.hub.channels))
            for name, busy in services.store.connections_in_use().items():
                pool.add_metric([name], busy)
        yield from (connections, subscriptions, channels, pool)
        if services is not None:
            yield from _live_counts(services.live)


def _live_counts(live: Any) -> Iterator[Metric]:
    """The live layer's running counts: what this node sent its viewers, its repairs from the
    log, and the broker's state."""
    meter, hub = live.meter, live.hub
    counts: list[tuple[str, str, int]] = [
        (
            "imagechat_deliveries",
            "Events delivered to viewers (one per event per viewer, replays included)",
            meter.total_deliveries,
        ),
        (
            "imagechat_delivered_bytes",
            "Bytes of the events delivered to viewers: their JSON before compression, "
            "as pubSubBandwidth counts them",
            meter.total_bytes,
        ),
        (
            "imagechat_batch_frames",
            "Array frames built for several events of one channel, each shared by its viewers",
            hub.batch_frames,
        ),
        (
            "imagechat_slow_consumer_closes",
            "Connections closed with 4008 because they did not read what they were sent",
            meter.slow_closes,
        ),
        (
            "imagechat_gap_repairs",
            "Reads of the event log that filled a gap or a lost tail",
            hub.repairs,
        ),
        ("imagechat_resets", "Histories found gone: their viewers were told to reload", hub.resets),
        (
            "imagechat_log_read_errors",
            "Failed reads of the event log (each retried)",
            hub.read_errors,
        ),
        (
            "imagechat_head_checks",
            "Periodic checks of the watched channels' heads",
            live.head_checks,
        ),
    ]
    outbox = getattr(live.broker, "outbox", None)
    if outbox is not None:
        counts.append(
            (
                "imagechat_outbox_dropped",
                "Events dropped from a full outbox (the log repairs them)",
                outbox.dropped,
            )
        )
    for name, documentation, value in counts:
        counter = CounterMetricFamily(name, documentation)
        counter.add_metric([], value)
        yield counter
    up = GaugeMetricFamily("imagechat_broker_up", "1 while the broker is reachable, else 0")
    up.add_metric([], 1.0 if live.health().ok else 0.0)
    yield up


class Metrics:
    """The app's registry and the counters the web layer feeds."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry()
        self.write_seconds = Histogram(
            "imagechat_write_seconds",
            "Time to commit one write (transaction with offset, event and idempotency)",
            ["operation"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.events = Counter(
            "imagechat_events_published",
            "Events committed and handed to the broker by this node",
            registry=self.registry,
        )
        self.registry.register(_LiveCollector(app))
        self._recent: collections.deque[float] = collections.deque(maxlen=100_000)

    def observe_write(self, operation: str, seconds: float, published: bool) -> None:
        # "delete_chat:abc" -> "delete_chat": one series per kind of write, not per target.
        self.write_seconds.labels(operation.split(":", 1)[0]).observe(seconds)
        if published:
            self.events.inc()
            self._recent.append(time.monotonic())

    def events_per_second(self) -> float:
        """Events this node committed per second, over the last few seconds."""
        since = time.monotonic() - RATE_WINDOW_SECONDS
        while self._recent and self._recent[0] < since:
            self._recent.popleft()
        return len(self._recent) / RATE_WINDOW_SECONDS

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_of(request: Request) -> Metrics:
    found: Metrics = request.app.state.metrics
    return found


def check_scraper(request: Request, token: str) -> None:
    """With a token, only `Authorization: Bearer <token>`; without, loopback clients only."""
    if token:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise Unauthorized("/metrics wants 'Authorization: Bearer <token>'", "unauthorized")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Forbidden(
            "/metrics answers loopback clients only unless IMAGECHAT_METRICS_TOKEN is set",
            "metrics_forbidden",
        )


async def metrics_endpoint(request: Request) -> Response:
    check_scraper(request, request.app.state.services.settings.metrics_token)
    return Response(metrics_of(request).render(), media_type=CONTENT_TYPE)


def live_now(live: Any, tenant_id: str) -> dict[str, Any]:
    """This node's live picture of one site: connections and its most watched images."""
    viewers = [
        (key[1], len(channel.subscribers))
        for key, channel in live.hub.channels.items()
        if key[0] == tenant_id
    ]
    viewers.sort(key=lambda item: (-item[1], item[0]))
    connections = sum(
        1
        for connection in live.connections
        if any(k[0] == tenant_id for k in connection.subscriptions)
    )
    return {
        "connections": connections,
        "topImages": [
            {"urlId": url_id, "viewers": count} for url_id, count in viewers[:TOP_IMAGES]
        ],
    }
