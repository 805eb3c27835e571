"""Server settings: flags and IMAGECHAT_* environment variables, with one-machine defaults."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

from imagechat.storage.engine import DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of a running server. Each field `name` is read from `IMAGECHAT_NAME`."""

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = "memory://"  # memory:// (one process) or redis://, rediss://, valkey://
    demo: bool = False
    # Live delivery
    max_batch: int = 100  # events per array frame at most
    # A channel sends one frame per this long on average: events within that pace go out at
    # once, events beyond it leave together as one frame. 50 ms (the protocol's bound) is
    # imperceptible to people and, under a burst, lets each connection take several events
    # per write (benchmarks/README.md measures 10/25/50).
    batch_window_ms: float = 50.0
    queue_limit: int = 2000  # queued events per connection before it is closed with 4008
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    # permessage-deflate where the client offers it (every browser does). Each frame is
    # compressed once and shared by every connection (benchmarks/README.md measures it).
    ws_compression: bool = True
    presence_interval: float = 1.0
    max_replay: int = 1000  # a recovery needing more events than this reloads the snapshot
    # Abuse limits (0 turns one off)
    write_rate: float = 20.0  # writes and sessions per second per tenant and client address
    write_burst: float = 120.0
    ws_message_rate: float = 50.0  # client messages per second per connection (then 4029)
    ws_message_burst: float = 200.0
    ws_connections_per_address: int = 500  # open WebSockets per client address (then 4029)
    # Events a connection may have replayed to it (subscribes with an offset) per second, and
    # at once: a storm of subscribes from offset 0 can't make the node read unbounded history.
    ws_replay_rate: float = 1000.0
    ws_replay_burst: float = 5000.0
    # Operations: with a token, GET /metrics wants it as a Bearer token; without, loopback only
    metrics_token: str = ""
    # FastAPI's own OpenTelemetry spans and metrics per request, for a process whose OpenTelemetry
    # SDK is configured (by the operator). Off by default: it costs every request CPU even when
    # nothing is configured, and /metrics covers what the server itself counts.
    opentelemetry: bool = False
    # Upkeep
    usage_flush_seconds: float = 10.0
    gap_check_seconds: float = 2.0  # the head check: bounds how late a lost tail arrives
    # Cluster (a Redis broker)
    outbox_limit: int = 10_000  # events waiting to be published before the oldest is dropped
    repair_grace_ms: float = 20.0  # a gap may close by itself this long before the log is read
    # TLS: both set, and `serve` speaks HTTPS and WSS itself (no proxy needed).
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value) or value < 0:
                raise ConfigError(spec.name, "a finite number, 0 or more", value)
        if self.port > 65535:
            raise ConfigError("port", "a TCP port, 0..65535", self.port)
        if self.batch_window_ms > 50:
            raise ConfigError(
                "batch_window_ms", "0..50 (the protocol's bound)", self.batch_window_ms
            )
        for name in ("max_batch", "queue_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "1 or more", getattr(self, name))
        for name in ("presence_interval", "usage_flush_seconds", "gap_check_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(name, "more than 0 seconds", getattr(self, name))
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ConfigError(
                "ssl_keyfile" if self.ssl_keyfile is None else "ssl_certfile",
                "a file too: HTTPS needs both a certificate and its key",
                None,
            )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, overridden by IMAGECHAT_* variables, overridden by explicit values."""
        environ = dict(os.environ) if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = environ.get(variable(spec.name))
            if raw is not None:
                values[spec.name] = _parse(spec.name, raw, spec.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return f"IMAGECHAT_{name.upper()}"


class ConfigError(ValueError):
    """A setting with a value it cannot take; the message names it and says what it wants."""

    def __init__(self, name: str, wants: str, got: object) -> None:
        self.name = name
        self.wants = wants
        self.got = got
        super().__init__(self.naming(variable(name)))

    def naming(self, source: str) -> str:
        """The message, naming where the value came from (a variable, or a flag)."""
        shown = "" if self.got is None else f", not {self.got!r}"
        return f"{source} wants {self.wants}{shown}"


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _parse(name: str, raw: str, kind: object) -> object:
    text = raw.strip()
    if kind in ("bool", bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(name, "a yes/no value (1/0, true/false, yes/no, on/off)", raw)
    try:
        if kind in ("int", int):
            return int(text)
        if kind in ("float", float):
            return float(text)
    except ValueError:
        wants = "a whole number" if kind in ("int", int) else "a number"
        raise ConfigError(name, wants, raw) from None
    if kind == "str | None" and text == "":
        return None
    return raw
