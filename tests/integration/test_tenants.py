"""Tenant rules: private and read-only sites, origin allowlists, and isolation between tenants."""

from __future__ import annotations

import pytest
from restkit import Api, MakeApi, assert_error, new_bid, sso_payload

from imagechat.domain.errors import Conflict, Invalid
from imagechat.storage.store import Store


def chat_body(url_id: str = "image-1") -> dict[str, object]:
    return {"urlId": url_id, "x": 1, "y": 2, "comment": "c", "broadcastId": new_bid()}


# --------------------------------------------------------------------------------------------
# Private tenants
# --------------------------------------------------------------------------------------------


async def test_private_tenant_reads_need_credentials(make_api: MakeApi) -> None:
    api = await make_api(private=True)
    member = await api.sso("member-1")
    made = await api.create_chat(member)
    chat_id = made["chat"]["id"]

    for path, params in (
        ("/chats", {"urlId": "image-1"}),
        (f"/chats/{chat_id}", {}),
        ("/events", {"urlId": "image-1", "since": 0}),
    ):
        assert_error(await api.get(path, params=params), 401, "unauthorized")
        assert_error(await api.get(path, params=params, token="junk"), 401, "invalid_token")
        with_token = await api.get(path, params=params, token=member)
        assert with_token.status_code == 200, with_token.text
        with_key = await api.get(path, params=params, api_key=api.tenant.api_secret)
        assert with_key.status_code == 200, with_key.text

    listing = await api.chats(token=member)
    assert [c["id"] for c in listing["chats"]] == [chat_id]


async def test_private_tenant_refuses_guests_but_takes_sso(make_api: MakeApi) -> None:
    api = await make_api(private=True)
    refused = await api.post("/sessions", json={"guest": {"name": "Eve"}})
    assert_error(refused, 403, "guests_not_allowed")
    session = await api.sso_session({"id": "m", "username": "Member"})
    assert session.status_code == 200, session.text
    assert session.json()["user"]["role"] == "user"
    # A guest token made for a public tenant is worthless here.
    public = await make_api()
    guest = await public.guest()
    assert_error(await api.post("/chats", json=chat_body(), token=guest), 401, "invalid_token")


async def test_public_tenant_reads_need_nothing(api: Api) -> None:
    assert (await api.get("/chats", params={"urlId": "x"})).status_code == 200
    assert (await api.get("/events", params={"urlId": "x"})).status_code == 200
    # ...but a bad credential is still refused rather than ignored.
    assert_error(await api.get("/chats", params={"urlId": "x"}, token="junk"), 401, "invalid_token")


# --------------------------------------------------------------------------------------------
# Read-only tenants
# --------------------------------------------------------------------------------------------


async def test_readonly_tenant_refuses_writes_from_non_staff(make_api: MakeApi) -> None:
    api = await make_api(readonly=True)
    key = api.tenant.api_secret
    staff_chat = await api.create_chat(None, api_key=key, comment="announcement")
    chat_id = staff_chat["chat"]["id"]

    guest = await api.guest("Gus")
    user = await api.sso("u1")
    for token in (guest, user):
        assert_error(await api.post("/chats", json=chat_body(), token=token), 403, "readonly")
        reply = await api.post(
            f"/chats/{chat_id}/comments",
            json={"comment": "hi", "broadcastId": new_bid()},
            token=token,
        )
        assert_error(reply, 403, "readonly")

    moderator = await api.sso("mod", isModerator=True)
    reply = await api.add_comment(moderator, chat_id, "moderators may")
    assert reply["offset"] == 2
    admin = await api.sso("boss", isAdmin=True)
    assert (await api.create_chat(admin))["offset"] == 3
    # Reads stay open, and refused writes left no trace.
    listing = await api.chats()
    assert listing["offset"] == 3 and len(listing["chats"]) == 2


# --------------------------------------------------------------------------------------------
# Origin allowlist
# --------------------------------------------------------------------------------------------


async def test_origin_allowlist(make_api: MakeApi) -> None:
    api = await make_api(origins=["https://a.example", "http://localhost:8080"])
    token = await api.guest()

    foreign = await api.post("/chats", json=chat_body(), token=token, origin="https://evil.example")
    assert_error(foreign, 403, "origin_not_allowed")
    read = await api.get("/chats", params={"urlId": "image-1"}, origin="https://evil.example")
    assert_error(read, 403, "origin_not_allowed")
    # Even a valid API key does not make a foreign browser origin acceptable.
    keyed = await api.get("/usage", api_key=api.tenant.api_secret, origin="https://evil.example")
    assert_error(keyed, 403, "origin_not_allowed")
    session = await api.post(
        "/sessions", json={"guest": {"name": "x"}}, origin="https://evil.example"
    )
    assert_error(session, 403, "origin_not_allowed")
    # Look-alikes are other origins.
    for near_miss in ("http://a.example", "https://a.example:8443", "https://a.example.evil.io"):
        answer = await api.get("/chats", params={"urlId": "image-1"}, origin=near_miss)
        assert_error(answer, 403, "origin_not_allowed")

    allowed = await api.post("/chats", json=chat_body(), token=token, origin="https://a.example")
    assert allowed.status_code == 201, allowed.text
    # Browsers send no trailing slash, but case and a slash are forgiven.
    also = await api.get("/chats", params={"urlId": "image-1"}, origin="HTTPS://A.example/")
    assert also.status_code == 200
    local = await api.get("/chats", params={"urlId": "image-1"}, origin="http://localhost:8080")
    assert local.status_code == 200

    # No Origin header (a server, a CLI): judged by credentials alone.
    server = await api.post("/chats", json=chat_body(), token=token)
    assert server.status_code == 201, server.text
    assert_error(await api.post("/chats", json=chat_body()), 401, "unauthorized")
    assert (await api.chats())["offset"] == 2


async def test_no_allowlist_allows_any_origin(api: Api) -> None:
    token = await api.guest()
    answer = await api.post(
        "/chats", json=chat_body(), token=token, origin="https://anywhere.example"
    )
    assert answer.status_code == 201, answer.text


async def test_cors_preflight_is_answered(api: Api) -> None:
    answer = await api.request(
        "OPTIONS",
        "/chats",
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] in ("*", "https://a.example")
    assert "POST" in answer.headers["access-control-allow-methods"]


# --------------------------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------------------------


async def test_tenants_are_isolated(make_api: MakeApi) -> None:
    a = await make_api()
    b = await make_api()
    token_a = await a.guest("Ann")
    made = await a.create_chat(token_a, url_id="shared-name.jpg")
    chat_id, comment_id = made["chat"]["id"], made["comment"]["id"]

    # A's token is worthless on B.
    assert_error(await b.post("/chats", json=chat_body(), token=token_a), 401, "invalid_token")
    # A's ids do not exist on B, whoever asks.
    token_b = await b.guest("Ben")
    key_b = b.tenant.api_secret
    assert_error(await b.get(f"/chats/{chat_id}"), 404, "chat_not_found")
    answer = await b.post(
        f"/chats/{chat_id}/comments", json={"comment": "x", "broadcastId": new_bid()}, token=token_b
    )
    assert_error(answer, 404, "chat_not_found")
    answer = await b.patch(
        f"/chats/{chat_id}", json={"x": 5, "broadcastId": new_bid()}, api_key=key_b
    )
    assert_error(answer, 404, "chat_not_found")
    answer = await b.delete(f"/chats/{chat_id}", params={"broadcastId": new_bid()}, api_key=key_b)
    assert_error(answer, 404, "chat_not_found")
    answer = await b.delete(
        f"/comments/{comment_id}", params={"broadcastId": new_bid()}, api_key=key_b
    )
    assert_error(answer, 404, "comment_not_found")
    # A's API key is not B's.
    assert_error(await b.get("/usage", api_key=a.tenant.api_secret), 401, "invalid_api_key")
    # A's SSO signature does not open B.
    signed = sso_payload(a.tenant.api_secret, {"id": "1", "username": "x"})
    assert_error(await b.post("/sessions", json={"sso": signed}), 401, "sso_invalid_hash")

    # The same urlId is a different channel on each tenant.
    assert (await b.chats("shared-name.jpg")) == {
        "urlId": "shared-name.jpg",
        "epoch": b.tenant.epoch,
        "offset": 0,
        "chats": [],
        "readOnly": False,
    }
    assert (await b.create_chat(token_b, url_id="shared-name.jpg"))["offset"] == 1
    assert (await a.chats("shared-name.jpg"))["offset"] == 1
    assert [c["id"] for c in (await a.chats("shared-name.jpg"))["chats"]] == [chat_id]


async def test_broadcast_ids_are_per_tenant(make_api: MakeApi) -> None:
    a = await make_api()
    b = await make_api()
    bid = new_bid()
    body = {**chat_body(), "broadcastId": bid}
    first = await a.post("/chats", json=body, token=await a.guest())
    second = await b.post("/chats", json=body, token=await b.guest())
    assert first.status_code == second.status_code == 201
    assert first.json()["chat"]["id"] != second.json()["chat"]["id"]


async def test_tenant_ids_are_unique_and_checked(store: Store, tenant_id: str) -> None:
    made = await store.create_tenant(tenant_id, origins=["https://A.example/"], private=True)
    assert made.origins == ("https://a.example",)
    assert len(made.api_secret) >= 32
    with pytest.raises(Conflict) as caught:
        await store.create_tenant(tenant_id)
    assert caught.value.code == "tenant_exists"
    for bad_id, code in (("Bad Id", "invalid_tenant_id"), ("x\n", "invalid_tenant_id")):
        with pytest.raises(Invalid) as refused:
            await store.create_tenant(bad_id)
        assert refused.value.code == code
    with pytest.raises(Invalid):
        await store.create_tenant(tenant_id + "-2", api_secret="s" * 129)
    read = await store.get_tenant(tenant_id)
    assert read == made
    assert tenant_id in [t.id for t in await store.list_tenants()]
    assert await store.get_tenant("a\x00b") is None
