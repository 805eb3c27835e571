"""Keeping the log bounded and starting new histories: trims, resets and purges.

The write path trims each image's log to the recovery window as it goes (writes.py); these
are for operators (`imagechat trim-history`, `imagechat reset-channel`) and periodic jobs.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.epochs import new_epoch
from imagechat.domain.models import Tenant
from imagechat.domain.times import now
from imagechat.storage.tables import channels, events, idempotency_keys
from imagechat.storage.transactions import Transactions


class Upkeep:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def trim_history(self, tenant: Tenant, url_id: str, keep_last: int) -> int:
        """Drop all but the newest `keep_last` events of a channel; returns the new floor."""
        async with self._tx.write() as conn:
            channel_id = (
                await conn.execute(
                    sa.select(channels.c.id).where(
                        channels.c.tenant_id == tenant.id, channels.c.url_id == url_id
                    )
                )
            ).scalar()
            if channel_id is None:
                return 0
            return await _trim(conn, int(channel_id), keep_last)

    async def trim_all_history(self, keep_last: int) -> int:
        """Trim every channel holding more than `keep_last` events; returns how many were."""
        async with self._tx.engine.connect() as conn:
            result = await conn.execute(
                sa.select(channels.c.id).where(
                    channels.c.top_offset - channels.c.history_floor > keep_last
                )
            )
            ids = [int(row.id) for row in result]
        for channel_id in ids:  # one short transaction per channel: writers wait briefly
            async with self._tx.write() as conn:
                await _trim(conn, channel_id, keep_last)
        return len(ids)

    async def reset_channel(self, tenant: Tenant, url_id: str) -> str:
        """Start a new history (epoch) for a channel, as after a restore; returns the epoch.

        The new epoch sorts after the old one, so every node and client follows it and none
        goes back; subscribers are told `recovered: false` and reload their snapshot.
        """
        async with self._tx.write() as conn:
            head = (
                await conn.execute(
                    sa.select(channels.c.id, channels.c.epoch)
                    .where(channels.c.tenant_id == tenant.id, channels.c.url_id == url_id)
                    .with_for_update()
                )
            ).first()
            if head is None:
                epoch = new_epoch(after=tenant.epoch)
                await conn.execute(
                    sa.insert(channels).values(
                        tenant_id=tenant.id,
                        url_id=url_id,
                        epoch=epoch,
                        top_offset=0,
                        history_floor=0,
                        chat_count=0,
                    )
                )
                return epoch
            epoch = new_epoch(after=head.epoch)
            await conn.execute(sa.delete(events).where(events.c.channel_id == head.id))
            await conn.execute(
                sa.update(channels)
                .where(channels.c.id == head.id)
                .values(epoch=epoch, top_offset=0, history_floor=0)
            )
        return epoch

    async def purge_idempotency(self, older_than: timedelta) -> int:
        async with self._tx.write() as conn:
            result = await conn.execute(
                sa.delete(idempotency_keys).where(
                    idempotency_keys.c.created_at < now() - older_than
                )
            )
        return int(result.rowcount or 0)


async def _trim(conn: AsyncConnection, channel_id: int, keep_last: int) -> int:
    """Trim one channel, its head locked: the floor is computed from the top offset of the
    current epoch as it stands in this transaction, never from an earlier read."""
    head = (
        await conn.execute(
            sa.select(channels.c.top_offset, channels.c.history_floor)
            .where(channels.c.id == channel_id)
            .with_for_update()
        )
    ).first()
    if head is None:
        return 0
    floor = max(int(head.history_floor), int(head.top_offset) - keep_last)
    if floor == head.history_floor:
        return floor
    await conn.execute(
        sa.delete(events).where(events.c.channel_id == channel_id, events.c.offset <= floor)
    )
    await conn.execute(
        sa.update(channels).where(channels.c.id == channel_id).values(history_floor=floor)
    )
    return floor
