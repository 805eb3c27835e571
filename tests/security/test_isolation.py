"""Tenant isolation: no event, read or write crosses a tenant or an image, whatever the ids.

Ids are built to collide under naive joining: tenants `p` and `p-q` with urlIds that spell the
same string once glued with `-`, `:`, `|`, `/` or nothing; NFC against NFD; ids at the length
limit that differ only in their last character. Each channel gets its own subscriber and its
own write; every subscriber must see exactly its own event, and every read exactly its own chat.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
import unicodedata
import uuid
from typing import Any

import httpx
import orjson
import pytest
import websockets

from imagechat.domain import limits
from tests.live.server import LiveServer
from tests.security.conftest import new_tenant, ws_url

SEPARATORS = ["-", ":", "|", "/", "_", "", "\\", ".", "%3A", " "]
CAFE_NFC = unicodedata.normalize("NFC", "café")
CAFE_NFD = unicodedata.normalize("NFD", "café")
LONGEST = limits.MAX_URL_ID


def colliding_url_ids() -> tuple[list[str], list[str]]:
    """urlIds for tenant `p` and for tenant `p-q` such that, for every separator, some pair
    joins to the same text: p + s + ("q" + s + "img") == "p-q" + s + "img" when s is "-"."""
    on_p = ["img", "q", "qimg", CAFE_NFC, CAFE_NFD, "a:b", "a", "b:c", "a:b:c"]
    for sep in SEPARATORS:
        on_p += [f"q{sep}img", f"-q{sep}img", f"{sep}q{sep}img"]
    on_p += ["x" * LONGEST, "x" * (LONGEST - 1) + "y", "x" * (LONGEST - 1)]
    on_pq = ["img", "q", "q-img", CAFE_NFC, CAFE_NFD, "a", "b:c", "a:b"]
    on_pq += ["x" * LONGEST, "x" * (LONGEST - 1) + "y"]
    return sorted(set(on_p)), sorted(set(on_pq))


def test_the_ids_do_collide_when_joined_naively() -> None:
    """Guards the test below: the pairs it uses really are ambiguous when glued together."""
    on_p, on_pq = colliding_url_ids()
    glued_p = {("p" + sep + u) for sep in SEPARATORS for u in on_p}
    glued_pq = {("p-q" + sep + u) for sep in SEPARATORS for u in on_pq}
    assert glued_p & glued_pq
    assert "a:b" + ":" + "c" == "a" + ":" + "b:c"
    assert CAFE_NFC != CAFE_NFD and unicodedata.normalize("NFC", CAFE_NFD) == CAFE_NFC


async def _subscribe_all(ws: Any, tenant_id: str, url_ids: list[str]) -> None:
    for url_id in url_ids:
        await ws.send(orjson.dumps({"type": "subscribe", "tenantId": tenant_id, "urlId": url_id}))
    pending = {(tenant_id, u) for u in url_ids}
    deadline = time.monotonic() + 20
    while pending:
        for frame in await _frames(ws, deadline):
            if frame["type"] == "subscribed":
                pending.discard((frame["tenantId"], frame["urlId"]))
            assert frame["type"] in ("subscribed", "presence"), frame


async def _frames(ws: Any, deadline: float) -> list[dict[str, Any]]:
    raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    parsed = orjson.loads(raw)
    return parsed if isinstance(parsed, list) else [parsed]


async def _events_until_quiet(ws: Any, quiet: float = 0.5) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while True:
        try:
            frames = await _frames(ws, time.monotonic() + quiet)
        except TimeoutError:
            return seen
        seen += [f for f in frames if f["type"] not in ("presence", "pong")]


async def test_events_and_reads_never_cross_tenants_or_images(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    suffix = secrets.token_hex(3)
    p = await new_tenant(server, f"p{suffix}")
    pq = await new_tenant(server, f"p{suffix}-q")
    on_p, on_pq = colliding_url_ids()
    channels = [(p, u) for u in on_p] + [(pq, u) for u in on_pq]

    tokens = {}
    for tenant in (p, pq):
        answer = await http.post(f"/api/v1/{tenant.id}/sessions", json={"guest": {"name": "W"}})
        tokens[tenant.id] = answer.json()["token"]

    # One connection per channel, so that whatever a socket receives belongs to one channel.
    sockets = [await websockets.connect(ws_url(server), max_size=2**22) for _ in channels]
    try:
        for ws, (tenant, url_id) in zip(sockets, channels, strict=True):
            await _subscribe_all(ws, tenant.id, [url_id])
        made: dict[tuple[str, str], str] = {}
        for tenant, url_id in channels:
            comment = f"{tenant.id}|{url_id}"
            answer = await http.post(
                f"/api/v1/{tenant.id}/chats",
                json={
                    "urlId": url_id,
                    "x": 1,
                    "y": 2,
                    "comment": comment,
                    "broadcastId": str(uuid.uuid4()),
                },
                headers={"Authorization": f"Bearer {tokens[tenant.id]}"},
            )
            assert answer.status_code == 201, answer.text
            made[(tenant.id, url_id)] = answer.json()["chat"]["id"]
        received = await asyncio.gather(*(_events_until_quiet(ws) for ws in sockets))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))

    for (tenant, url_id), events in zip(channels, received, strict=True):
        assert len(events) == 1, (tenant.id, url_id, events)
        event = events[0]
        assert (event["tenantId"], event["urlId"]) == (tenant.id, url_id)
        assert event["chat"]["id"] == made[(tenant.id, url_id)]
        assert event["comment"]["body"] == f"{tenant.id}|{url_id}"
        assert event["offset"] == 1

    for tenant, url_id in channels:
        base = f"/api/v1/{tenant.id}"
        snapshot = (await http.get(f"{base}/chats", params={"urlId": url_id})).json()
        assert [c["id"] for c in snapshot["chats"]] == [made[(tenant.id, url_id)]]
        assert snapshot["urlId"] == url_id and snapshot["offset"] == 1
        history = (await http.get(f"{base}/events", params={"urlId": url_id})).json()
        assert [e["chat"]["id"] for e in history["events"]] == [made[(tenant.id, url_id)]]
    # A chat of one tenant is unknown on the other, whatever the ids look like.
    for (tenant_id, _url), chat_id in itertools.islice(made.items(), 6):
        other = pq.id if tenant_id == p.id else p.id
        answer = await http.get(f"/api/v1/{other}/chats/{chat_id}")
        assert answer.status_code == 404 and answer.json()["code"] == "chat_not_found"


async def test_url_id_over_the_limit_is_refused_everywhere(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    too_long = "x" * (LONGEST + 1)
    answer = await http.get(f"/api/v1/{tenant.id}/chats", params={"urlId": too_long})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_url_id"
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "tenantId": tenant.id, "urlId": too_long}))
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    assert frame["type"] == "error" and frame["code"] == "bad_request"
    assert frame["tenantId"] == tenant.id


@pytest.mark.parametrize("private", [True, False])
async def test_token_of_another_tenant_is_403_on_rest_and_forbidden_on_the_socket(
    server: LiveServer, http: httpx.AsyncClient, private: bool
) -> None:
    a = await new_tenant(server)
    b = await new_tenant(server, private=private)
    token_a = (await http.post(f"/api/v1/{a.id}/sessions", json={"guest": {"name": "A"}})).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token_a}"}
    body = {"urlId": "img", "x": 1, "y": 1, "comment": "hi", "broadcastId": str(uuid.uuid4())}
    for answer in (
        await http.post(f"/api/v1/{b.id}/chats", json=body, headers=headers),
        await http.get(f"/api/v1/{b.id}/chats", params={"urlId": "img"}, headers=headers),
        await http.get(f"/api/v1/{b.id}/events", params={"urlId": "img"}, headers=headers),
        await http.get(f"/api/v1/{b.id}/usage", headers=headers),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json() == {
            "status": "error",
            "code": "token_wrong_tenant",
            "message": "session token belongs to another tenant",
        }
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(
            orjson.dumps({"type": "subscribe", "tenantId": b.id, "urlId": "img", "token": token_a})
        )
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (frame["type"], frame["code"], frame["tenantId"]) == ("error", "forbidden", b.id)
        # The connection stays open for channels it may follow.
        await ws.send(
            orjson.dumps({"type": "subscribe", "tenantId": a.id, "urlId": "img", "token": token_a})
        )
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["type"] == "subscribed"
    assert (await http.get(f"/api/v1/{b.id}/chats", params={"urlId": "img"})).status_code == (
        401 if private else 200
    )


async def test_private_tenant_refuses_reads_and_subscriptions_without_a_valid_token(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server, private=True)
    base = f"/api/v1/{tenant.id}"
    key = {"X-API-Key": tenant.api_secret}
    made = await http.post(
        f"{base}/chats",
        json={
            "urlId": "img",
            "x": 1,
            "y": 1,
            "comment": "hush-hush",
            "broadcastId": str(uuid.uuid4()),
        },
        headers=key,
    )
    assert made.status_code == 201, made.text
    chat_id = made.json()["chat"]["id"]
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer junk"}, 401),
        ({"X-API-Key": "wrong"}, 401),
        (key, 200),
    ):
        for path, params in (
            ("/chats", {"urlId": "img"}),
            (f"/chats/{chat_id}", {}),
            ("/events", {"urlId": "img", "since": 0}),
        ):
            answer = await http.get(base + path, params=params, headers=headers)
            assert answer.status_code == status, (path, headers, answer.text)
            if status != 200:
                assert "hush-hush" not in answer.text
    async with websockets.connect(ws_url(server)) as ws:
        for token in (None, "junk", "v2.e30.x"):
            message = {"type": "subscribe", "tenantId": tenant.id, "urlId": "img", "offset": 0}
            if token is not None:
                message["token"] = token
            await ws.send(orjson.dumps(message))
            frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert (frame["type"], frame["code"]) == ("error", "unauthorized"), frame
            assert "hush-hush" not in str(frame)
