"""REST limits an attacker meets first: the raw size of a comment, and writes and sessions per
address and per user (429 with Retry-After). Clients come from several loopback addresses, so
that "per address" and "per user" are really told apart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from imagechat.domain import limits
from tests.live.server import LiveServer
from tests.security.conftest import new_tenant


def chat(comment: str) -> dict[str, Any]:
    return {"urlId": "i", "x": 1, "y": 1, "comment": comment, "broadcastId": str(uuid.uuid4())}


async def test_a_comment_is_at_most_8_kb_as_sent(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(server)
    base = f"/api/v1/{tenant.id}"
    token = (await http.post(f"{base}/sessions", json={"guest": {"name": "G"}})).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    longest = "x" * limits.MAX_COMMENT
    padded = [
        longest + " " * 60_000,  # what used to be accepted and fanned out to every viewer
        " " * (limits.MAX_COMMENT_BYTES + 1) + "x",
        "😀" * limits.MAX_COMMENT + " " * 193,  # 8000 + 193 bytes
        "é" * (limits.MAX_COMMENT_BYTES // 2) + "\n",
    ]
    for comment in padded:
        answer = await http.post(f"{base}/chats", json=chat(comment), headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "comment_too_large"
    fits = ["😀" * limits.MAX_COMMENT + " " * 192, longest + "\t" * 6192, "a" + " " * 8191]
    for comment in fits:
        assert len(comment.encode()) == limits.MAX_COMMENT_BYTES
        answer = await http.post(f"{base}/chats", json=chat(comment), headers=auth)
        assert answer.status_code == 201, answer.text
        assert answer.json()["comment"]["body"] == comment  # stored as given
    chat_id = answer.json()["chat"]["id"]
    comment_id = answer.json()["comment"]["id"]
    big = {"comment": longest + " " * 7000, "broadcastId": str(uuid.uuid4())}
    reply = await http.post(f"{base}/chats/{chat_id}/comments", json=big, headers=auth)
    assert reply.status_code == 422 and reply.json()["code"] == "comment_too_large"
    edit = await http.patch(f"{base}/comments/{comment_id}", json=big, headers=auth)
    assert edit.status_code == 422 and edit.json()["code"] == "comment_too_large"
    assert (await http.get(f"{base}/chats", params={"urlId": "i"})).json()["offset"] == len(fits)


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        f"sqlite+aiosqlite:///{tmp_path / 'limited.db'}",
        usage_flush_seconds=3600,
        write_rate=0.001,  # nothing refills during the test
        write_burst=3,
    )
    await live.start()
    yield live
    await live.close()


def client_from(server: LiveServer, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=10)


async def test_writes_are_limited_per_address_and_per_user(limited: LiveServer) -> None:
    tenant = await new_tenant(limited)
    base = f"/api/v1/{tenant.id}"
    async with (
        client_from(limited, "127.0.0.2") as first,
        client_from(limited, "127.0.0.3") as second,
        client_from(limited, "127.0.0.4") as third,
    ):
        mallory = (await first.post(f"{base}/sessions", json={"guest": {"name": "M"}})).json()
        bob = (await third.post(f"{base}/sessions", json={"guest": {"name": "B"}})).json()
        as_mallory = {"Authorization": f"Bearer {mallory['token']}"}
        # 127.0.0.2 spent one token on the session: two writes left there.
        for _ in range(2):
            answer = await first.post(f"{base}/chats", json=chat("m"), headers=as_mallory)
            assert answer.status_code == 201, answer.text
        over = await first.post(f"{base}/chats", json=chat("m"), headers=as_mallory)
        assert over.status_code == 429 and over.json()["code"] == "rate_limited"
        assert int(over.headers["retry-after"]) >= 1
        # The same user from a fresh address: one more write, then the user's own bucket is
        # empty (3 writes in all) although the address still has tokens.
        answer = await second.post(f"{base}/chats", json=chat("m"), headers=as_mallory)
        assert answer.status_code == 201, answer.text
        over = await second.post(f"{base}/chats", json=chat("m"), headers=as_mallory)
        assert over.status_code == 429 and "retry-after" in over.headers
        # Someone else from that address is not held back by Mallory's limit.
        as_bob = {"Authorization": f"Bearer {bob['token']}"}
        answer = await second.post(f"{base}/chats", json=chat("b"), headers=as_bob)
        assert answer.status_code == 201, answer.text
        # Sessions count against the address too.
        for _ in range(2):
            assert (
                await third.post(f"{base}/sessions", json={"guest": {"name": "x"}})
            ).status_code == 200
        refused = await third.post(f"{base}/sessions", json={"guest": {"name": "x"}})
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        # Sessions of one SSO user count against that user too, from whichever address.
        from tests.security.test_sso_and_tokens import signed

        ada = {"sso": signed(tenant.api_secret, {"id": "ada", "username": "Ada"})}
        async with (
            client_from(limited, "127.0.0.5") as fifth,
            client_from(limited, "127.0.0.6") as sixth,
        ):
            for client in (fifth, fifth, sixth):
                assert (await client.post(f"{base}/sessions", json=ada)).status_code == 200
            refused = await sixth.post(f"{base}/sessions", json=ada)
            assert refused.status_code == 429 and "retry-after" in refused.headers
        # The site's own backend is trusted with its secret and is not limited.
        for _ in range(5):
            keyed = await third.post(
                f"{base}/chats", json=chat("k"), headers={"X-API-Key": tenant.api_secret}
            )
            assert keyed.status_code == 201, keyed.text


async def test_channels_per_connection_are_bounded(tmp_path: Path) -> None:
    from imagechat.realtime.connection import MAX_CHANNELS_PER_CONNECTION

    live = LiveServer(
        f"sqlite+aiosqlite:///{tmp_path / 'channels.db'}",
        usage_flush_seconds=3600,
        ws_message_rate=0.0,  # this test is about channels, not message rates
    )
    await live.start()
    try:
        tenant = await new_tenant(live)
        async with websockets.connect(live.url.replace("http", "ws") + "/ws") as ws:

            async def subscribe(url_id: str) -> dict[str, Any]:
                await ws.send(
                    orjson.dumps({"type": "subscribe", "tenantId": tenant.id, "urlId": url_id})
                )
                while True:
                    frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    for item in frame if isinstance(frame, list) else [frame]:
                        if item["type"] in ("subscribed", "error"):
                            return dict(item)

            for i in range(MAX_CHANNELS_PER_CONNECTION):
                assert (await subscribe(f"img-{i}"))["type"] == "subscribed"
            refused = await subscribe("one-too-many")
            assert refused["type"] == "error" and refused["code"] == "too_many_channels"
            assert refused["urlId"] == "one-too-many"
            # The connection stays, and channels it already follows may be re-subscribed.
            assert (await subscribe("img-0"))["type"] == "subscribed"
    finally:
        await live.close()
