"""GET /events: recovery over HTTP, all or nothing, and `recovered: false` when history is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from restkit import Api

from imagechat.storage.store import Store


async def write_chats(api: Api, count: int, url_id: str = "image-1") -> list[str]:
    token = await api.guest()
    return [
        (await api.create_chat(token, url_id=url_id, comment=f"#{n}"))["chat"]["id"]
        for n in range(count)
    ]


async def test_events_since_each_offset(api: Api) -> None:
    await write_chats(api, 4)
    epoch = api.tenant.epoch
    for since in range(5):
        got = await api.events(since=since, epoch=epoch)
        assert got["recovered"] is True
        assert (got["epoch"], got["offset"]) == (epoch, 4)
        assert [e["offset"] for e in got["events"]] == list(range(since + 1, 5))
        assert [e["comment"]["body"] for e in got["events"]] == [f"#{n}" for n in range(since, 4)]


async def test_since_zero_needs_no_epoch_but_later_offsets_do(api: Api) -> None:
    await write_chats(api, 2)
    assert len((await api.events(since=0))["events"]) == 2
    without_epoch = await api.events(since=1)
    assert without_epoch == {"recovered": False, "epoch": api.tenant.epoch, "offset": 2}


async def test_an_empty_channel(api: Api) -> None:
    got = await api.events("nothing-here", since=0)
    assert got == {"recovered": True, "epoch": api.tenant.epoch, "offset": 0, "events": []}
    ahead = await api.events("nothing-here", since=3, epoch=api.tenant.epoch)
    assert ahead == {"recovered": False, "epoch": api.tenant.epoch, "offset": 0}


async def test_an_offset_beyond_the_head_is_not_recovered(api: Api) -> None:
    await write_chats(api, 2)
    got = await api.events(since=3, epoch=api.tenant.epoch)
    assert got == {"recovered": False, "epoch": api.tenant.epoch, "offset": 2}


async def test_wrong_epoch_is_not_recovered(api: Api) -> None:
    await write_chats(api, 2)
    for epoch in ("0000000000000000", "", "e" * 64):
        got = await api.events(since=0, epoch=epoch)
        assert got == {"recovered": False, "epoch": api.tenant.epoch, "offset": 2}


async def test_trimmed_history_is_not_recovered(api: Api) -> None:
    await write_chats(api, 5)
    floor = await api.store.trim_history(api.tenant, "image-1", keep_last=2)
    assert floor == 3
    epoch = api.tenant.epoch
    for since in (0, 1, 2):
        got = await api.events(since=since, epoch=epoch)
        assert got == {"recovered": False, "epoch": epoch, "offset": 5}
    # The part still in the log is served in full.
    got = await api.events(since=3, epoch=epoch)
    assert got["recovered"] is True
    assert [e["offset"] for e in got["events"]] == [4, 5]
    assert (await api.events(since=5, epoch=epoch))["events"] == []
    # Trimming never moves the floor back.
    assert await api.store.trim_history(api.tenant, "image-1", keep_last=100) == 3
    # New writes keep counting from the head.
    await write_chats(api, 1)
    got = await api.events(since=3, epoch=epoch)
    assert [e["offset"] for e in got["events"]] == [4, 5, 6]


async def test_reset_channel_starts_a_new_epoch(api: Api) -> None:
    await write_chats(api, 3)
    old_epoch = api.tenant.epoch
    new_epoch = await api.store.reset_channel(api.tenant, "image-1")
    assert new_epoch != old_epoch

    stale = await api.events(since=3, epoch=old_epoch)
    assert stale == {"recovered": False, "epoch": new_epoch, "offset": 0}
    assert (await api.events(since=0, epoch=old_epoch))["recovered"] is False
    fresh = await api.events(since=0, epoch=new_epoch)
    assert fresh == {"recovered": True, "epoch": new_epoch, "offset": 0, "events": []}

    # The snapshot tells the client the new epoch; the next write is offset 1 of it.
    listing = await api.chats()
    assert (listing["epoch"], listing["offset"]) == (new_epoch, 0)
    await write_chats(api, 1)
    got = await api.events(since=0, epoch=new_epoch)
    assert [e["offset"] for e in got["events"]] == [1]
    # Other channels keep the tenant's epoch.
    assert (await api.chats("other"))["epoch"] == old_epoch


@pytest.fixture()
async def small_replay_api(
    database_url: str, tenant_id: str, make_app_client: Any
) -> AsyncIterator[Api]:
    """An app whose Store replays at most 3 events."""
    store = await Store.open(database_url, max_replay=3)
    try:
        tenant = await store.create_tenant(tenant_id, api_secret="s3cret")
        async with make_app_client(store, max_replay=3) as client:
            yield Api(client, tenant)
    finally:
        await store.close()


async def test_recovery_is_never_partial(small_replay_api: Api) -> None:
    api = small_replay_api
    await write_chats(api, 5)
    epoch = api.tenant.epoch
    too_far = await api.events(since=1, epoch=epoch)  # 4 missed > max_replay 3
    assert too_far == {"recovered": False, "epoch": epoch, "offset": 5}
    assert (await api.events(since=0))["recovered"] is False
    near = await api.events(since=2, epoch=epoch)  # exactly 3
    assert [e["offset"] for e in near["events"]] == [3, 4, 5]
