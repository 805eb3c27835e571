"""Per-tenant delivery counters, kept in memory and handed to the database in flushes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from imagechat.domain.times import utc_day
from imagechat.domain.usage import UsageDelta


class UsageMeter:
    """Counts deliveries and bytes per tenant and the peak of concurrent connections.

    Beside the per-tenant counts it flushes, it keeps this process's running totals for
    `/metrics`: deliveries, their bytes, and connections closed for reading too slowly (4008).
    """

    def __init__(self) -> None:
        self.total_deliveries = 0
        self.total_bytes = 0
        self.slow_closes = 0
        self.day: date = utc_day()
        self._messages: defaultdict[str, int] = defaultdict(int)
        self._bytes: defaultdict[str, int] = defaultdict(int)
        self._connections: defaultdict[str, int] = defaultdict(int)
        self._peak: dict[str, int] = {}
        self._pending: list[UsageDelta] = []

    def delivered(self, tenant_id: str, messages: int, nbytes: int) -> None:
        self._messages[tenant_id] += messages
        self._bytes[tenant_id] += nbytes
        self.total_deliveries += messages
        self.total_bytes += nbytes

    def slow_close(self) -> None:
        """A connection was closed with 4008: it did not read what it was sent."""
        self.slow_closes += 1

    def connection_opened(self, tenant_id: str) -> None:
        count = self._connections[tenant_id] + 1
        self._connections[tenant_id] = count
        if count > self._peak.get(tenant_id, 0):
            self._peak[tenant_id] = count

    def connection_closed(self, tenant_id: str) -> None:
        self._connections[tenant_id] -= 1
        if self._connections[tenant_id] <= 0:
            del self._connections[tenant_id]

    def connections(self, tenant_id: str) -> int:
        return self._connections.get(tenant_id, 0)

    def connection_counts(self) -> dict[str, int]:
        """Connections open here per tenant (a connection counts once per tenant it follows)."""
        return dict(self._connections)

    def observe_total(self, tenant_id: str, total: int) -> None:
        """The deployment's count of a tenant's connections right now: a candidate peak."""
        if total > self._peak.get(tenant_id, 0):
            self._peak[tenant_id] = total

    def tick(self) -> None:
        """Start a new day's counters at UTC midnight (called about once a second)."""
        today = utc_day()
        if today != self.day:
            self._pending.extend(self._take())
            self.day = today
            self._peak = dict(self._connections)

    def flush(self) -> list[UsageDelta]:
        """Everything counted since the last flush; counts restart from zero."""
        self.tick()
        deltas, self._pending = [*self._pending, *self._take()], []
        return deltas

    def restore(self, deltas: list[UsageDelta]) -> None:
        """Put back a flush that could not be written, so that no count is lost."""
        self._pending = [*deltas, *self._pending]

    def _take(self) -> list[UsageDelta]:
        tenants = set(self._messages) | set(self._bytes) | set(self._peak)
        deltas = [
            UsageDelta(
                tenant,
                self.day,
                self._messages.get(tenant, 0),
                self._bytes.get(tenant, 0),
                self._peak.get(tenant, 0),
            )
            for tenant in sorted(tenants)
        ]
        self._messages.clear()
        self._bytes.clear()
        return deltas
