"""Server settings: flags and IMAGECHAT_* environment variables, with one-machine defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from imagechat.storage.engine import DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of a running server. Each field `name` is read from `IMAGECHAT_NAME`."""

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = "memory://"
    demo: bool = False
    # Live delivery
    max_batch: int = 100  # events per array frame at most
    # A channel's events within this long after its last fan-out leave together as one frame.
    # 50 ms (the protocol's bound) is imperceptible to people and, under a burst, lets each
    # connection take several events per write (benchmarks/README.md measures 10/25/50).
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
    # Upkeep
    usage_flush_seconds: float = 10.0
    gap_check_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, overridden by IMAGECHAT_* variables, overridden by explicit values."""
        environ = dict(os.environ) if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = environ.get(f"IMAGECHAT_{spec.name.upper()}")
            if raw is not None:
                values[spec.name] = _parse(raw, spec.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if not 0 <= settings.batch_window_ms <= 50:
            raise ValueError("batch_window_ms must be between 0 and 50")
        return settings


def _parse(raw: str, kind: object) -> object:
    if kind in ("bool", bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in ("int", int):
        return int(raw)
    if kind in ("float", float):
        return float(raw)
    return raw
