"""GET /usage: admins only, a day range checked, activity counted per UTC day."""

from __future__ import annotations

from datetime import date, timedelta

from restkit import Api, MakeApi, assert_error

from imagechat.domain.times import utc_day
from imagechat.domain.usage import UsageDelta

DAY_KEYS = {
    "day",
    "pubSubMessageCount",
    "pubSubBandwidth",
    "conversationsCreated",
    "commentsCreated",
    "peakConnections",
}


async def usage(api: Api, **params: str) -> list[dict[str, object]]:
    answer = await api.get("/usage", params=params, api_key=api.tenant.api_secret)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["days"])


async def test_usage_is_for_admins_only(api: Api) -> None:
    assert_error(await api.get("/usage"), 401, "unauthorized")
    guest = await api.guest()
    assert_error(await api.get("/usage", token=guest), 403, "admin_only")
    moderator = await api.sso("mod", isModerator=True)
    assert_error(await api.get("/usage", token=moderator), 403, "admin_only")
    user = await api.sso("plain")
    assert_error(await api.get("/usage", token=user), 403, "admin_only")

    admin = await api.sso("boss", isAdmin=True)
    by_admin = await api.get("/usage", token=admin)
    assert by_admin.status_code == 200, by_admin.text
    by_key = await api.get("/usage", api_key=api.tenant.api_secret)
    assert by_key.status_code == 200, by_key.text
    assert by_admin.json() == by_key.json()


async def test_default_range_is_the_last_30_days_with_zeros(api: Api) -> None:
    days = await usage(api)
    today = date.fromisoformat(str(days[-1]["day"]))
    assert today in (utc_day(), utc_day() - timedelta(days=1))  # the request may straddle midnight
    assert len(days) == 30
    assert days[0]["day"] == (today - timedelta(days=29)).isoformat()
    assert days[-1]["day"] == today.isoformat()
    for row in days:
        assert set(row) == DAY_KEYS
        assert all(row[key] == 0 for key in DAY_KEYS - {"day"})


def total(days: list[dict[str, object]], key: str) -> int:
    return sum(int(day[key]) for day in days)  # type: ignore[call-overload]


async def test_conversations_and_comments_are_counted(make_api: MakeApi) -> None:
    # The writes may straddle midnight UTC: count over the days they could fall on.
    start = utc_day()
    api = await make_api()
    other = await make_api()
    token = await api.guest()
    first = await api.create_chat(token, url_id="a")
    await api.create_chat(token, url_id="b")
    await api.add_comment(token, first["chat"]["id"])
    await api.add_comment(token, first["chat"]["id"])
    await api.add_comment(token, first["chat"]["id"])
    # Edits, moves and deletions are activity but create nothing.
    await api.delete(
        f"/chats/{first['chat']['id']}",
        params={"broadcastId": "c5d1e6a8-0000-4000-8000-000000000001"},
        token=token,
    )
    # Another tenant's activity is not ours.
    await other.create_chat(await other.guest())

    end = utc_day()
    first_day = start - timedelta(days=2)
    days = await usage(api, **{"from": first_day.isoformat(), "to": end.isoformat()})
    expected_days = [first_day + timedelta(days=n) for n in range((end - first_day).days + 1)]
    assert [d["day"] for d in days] == [day.isoformat() for day in expected_days]
    assert total(days, "conversationsCreated") == 2
    assert total(days, "commentsCreated") == 5  # each new chat brings its first comment
    # The days before the writes are there, with zeros.
    assert total(days[:2], "conversationsCreated") == total(days[:2], "commentsCreated") == 0

    theirs = await usage(other, **{"from": start.isoformat(), "to": end.isoformat()})
    assert total(theirs, "conversationsCreated") == total(theirs, "commentsCreated") == 1


async def test_retried_writes_are_counted_once(api: Api) -> None:
    start = utc_day()
    token = await api.guest()
    body = {
        "urlId": "a",
        "x": 1,
        "y": 1,
        "comment": "c",
        "broadcastId": "2f0e4c52-7a4e-4c7b-9d37-3c1f2f0a9b11",
    }
    for _ in range(3):
        assert (await api.post("/chats", json=body, token=token)).status_code == 201
    days = await usage(api, **{"from": start.isoformat(), "to": utc_day().isoformat()})
    assert total(days, "conversationsCreated") == 1


async def test_delivery_counters_add_up(api: Api) -> None:
    """What nodes flush (messages, bytes, peak connections) is summed; peak keeps the max."""
    today = utc_day()
    earlier = today - timedelta(days=3)
    await api.store.add_usage(
        [
            UsageDelta(api.tenant.id, today, messages=10, bandwidth=1000, peak_connections=4),
            UsageDelta(api.tenant.id, earlier, messages=1, bandwidth=50, peak_connections=1),
        ]
    )
    await api.store.add_usage(
        [UsageDelta(api.tenant.id, today, messages=5, bandwidth=500, peak_connections=3)]
    )
    days = await usage(api, **{"from": earlier.isoformat(), "to": today.isoformat()})
    assert len(days) == 4
    assert days[-1]["pubSubMessageCount"] == 15
    assert days[-1]["pubSubBandwidth"] == 1500
    assert days[-1]["peakConnections"] == 4
    assert (days[0]["pubSubMessageCount"], days[0]["peakConnections"]) == (1, 1)
    assert days[1]["pubSubMessageCount"] == days[2]["pubSubMessageCount"] == 0


async def test_day_range_validation(api: Api) -> None:
    key = api.tenant.api_secret

    async def ask(**params: str) -> object:
        return await api.get("/usage", params=params, api_key=key)

    for bad in ("yesterday", "2026-13-01", "2026-02-30", "26-1-1"):
        assert_error(await ask(**{"from": bad}), 422, "invalid_day")
        assert_error(await ask(to=bad), 422, "invalid_day")
    assert_error(await ask(**{"from": "2026-01-01T00:00:00"}), 422, "invalid_request")
    assert_error(await ask(**{"from": "2026-03-02", "to": "2026-03-01"}), 422, "invalid_day")
    assert_error(await ask(**{"from": "2024-01-01", "to": "2025-01-01"}), 422, "invalid_day")

    one = await ask(**{"from": "2026-03-01", "to": "2026-03-01"})
    assert [d["day"] for d in one.json()["days"]] == ["2026-03-01"]  # type: ignore[attr-defined]
    longest = await ask(**{"from": "2024-01-01", "to": "2024-12-31"})  # 366 days, a leap year
    assert len(longest.json()["days"]) == 366  # type: ignore[attr-defined]
    # `to` alone: the 30 days ending then.
    ending = await ask(to="2026-03-31")
    days = ending.json()["days"]  # type: ignore[attr-defined]
    assert (days[0]["day"], days[-1]["day"], len(days)) == ("2026-03-02", "2026-03-31", 30)
