"""Usage per tenant and UTC day: what nodes flush (deliveries, bytes, peak connections) and
what writes counted per image (conversations, comments), added up when read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from imagechat.domain.usage import UsageDelta
from imagechat.storage.dialect import upsert
from imagechat.storage.tables import channel_usage_daily, usage_daily
from imagechat.storage.transactions import Transactions


class Usage:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def add(self, deltas: Sequence[UsageDelta]) -> None:
        """Add one node's flush; each delta is filed under its own UTC day, as counted."""
        if not deltas:
            return
        async with self._tx.write() as conn:
            table = usage_daily
            greatest = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max
            for delta in deltas:
                statement = upsert(conn, table).values(
                    tenant_id=delta.tenant_id,
                    day=delta.day,
                    conversations_created=0,
                    comments_created=0,
                    pubsub_message_count=delta.messages,
                    pubsub_bandwidth=delta.bandwidth,
                    peak_connections=delta.peak_connections,
                )
                await conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["tenant_id", "day"],
                        set_={
                            "pubsub_message_count": table.c.pubsub_message_count
                            + statement.excluded.pubsub_message_count,
                            "pubsub_bandwidth": table.c.pubsub_bandwidth
                            + statement.excluded.pubsub_bandwidth,
                            "peak_connections": greatest(
                                table.c.peak_connections, statement.excluded.peak_connections
                            ),
                        },
                    )
                )

    async def days(self, tenant_id: str, first: date, last: date) -> list[dict[str, Any]]:
        """One row per day from `first` to `last`, zeros where nothing happened."""
        async with self._tx.read() as conn:
            flushed = await conn.execute(
                sa.select(usage_daily).where(
                    usage_daily.c.tenant_id == tenant_id,
                    usage_daily.c.day >= first,
                    usage_daily.c.day <= last,
                )
            )
            by_day = {_day(row.day): row for row in flushed}
            written = await conn.execute(
                sa.select(
                    channel_usage_daily.c.day,
                    sa.func.sum(channel_usage_daily.c.conversations_created).label("chats"),
                    sa.func.sum(channel_usage_daily.c.comments_created).label("comments"),
                )
                .where(
                    channel_usage_daily.c.tenant_id == tenant_id,
                    channel_usage_daily.c.day >= first,
                    channel_usage_daily.c.day <= last,
                )
                .group_by(channel_usage_daily.c.day)
            )
            created = {_day(row.day): (int(row.chats), int(row.comments)) for row in written}
        days = []
        day = first
        while day <= last:
            row = by_day.get(day)
            chats, comments = created.get(day, (0, 0))
            days.append(
                {
                    "day": day.isoformat(),
                    "pubSubMessageCount": int(row.pubsub_message_count) if row else 0,
                    "pubSubBandwidth": int(row.pubsub_bandwidth) if row else 0,
                    # usage_daily kept these itself before they moved to per-image rows.
                    "conversationsCreated": chats + (int(row.conversations_created) if row else 0),
                    "commentsCreated": comments + (int(row.comments_created) if row else 0),
                    "peakConnections": int(row.peak_connections) if row else 0,
                }
            )
            day += timedelta(days=1)
        return days


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
