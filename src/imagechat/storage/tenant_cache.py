"""A bounded cache of tenants: least recently used out first, every entry for a short time.

Requests name their tenant in the URL, so anyone can ask for thousands of made-up ones: an
unknown id is remembered (briefly, so a new tenant shows up soon) but never grows the cache
past its bound.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from imagechat.domain.models import Tenant

_MISSING = object()


class TenantCache:
    def __init__(
        self, *, max_entries: int = 1024, ttl: float = 5.0, unknown_ttl: float = 1.0
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.unknown_ttl = unknown_ttl
        self._entries: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, tenant_id: str) -> Tenant | object | None:
        """The cached tenant (None: known not to exist), or `MISSING` to read it anew."""
        entry = self._entries.get(tenant_id)
        if entry is None:
            return _MISSING
        if entry[0] <= time.monotonic():
            del self._entries[tenant_id]
            return _MISSING
        self._entries.move_to_end(tenant_id)
        return entry[1]

    def put(self, tenant_id: str, tenant: Tenant | None) -> None:
        ttl = self.ttl if tenant is not None else self.unknown_ttl
        self._entries[tenant_id] = (time.monotonic() + ttl, tenant)
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, tenant_id: str) -> None:
        self._entries.pop(tenant_id, None)


MISSING = _MISSING
