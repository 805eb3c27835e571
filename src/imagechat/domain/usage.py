"""Usage counters as one node hands them to the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """What one node counted for a tenant on one UTC day since its last flush."""

    tenant_id: str
    day: date
    messages: int = 0
    bandwidth: int = 0
    peak_connections: int = 0
