"""The operator console over HTTP: sign-in and its cookie, CSRF on every form, each action
taking effect (live events included), refusals as pages, and stored text shown as text."""

from __future__ import annotations

import re
from typing import Any

import httpx
from restkit import Api, new_bid

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(api: Api, **credentials: str) -> httpx.Response:
    form = await api.client.get("/admin/login")
    assert form.status_code == 200
    fields = {"csrf": csrf_of(form), "tenant": api.tenant.id, **credentials}
    return await api.client.post("/admin/login", data=fields)


async def signed_in(api: Api) -> str:
    """Signs in with the API secret; the CSRF token of the console's forms."""
    answer = await sign_in(api, secret=api.tenant.api_secret)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/usage"
    return csrf_of(await api.client.get("/admin/usage"))


async def do(api: Api, action: str, csrf: str, **fields: Any) -> httpx.Response:
    return await api.client.post(f"/admin/do/{action}", data={"csrf": csrf, **fields})


async def test_sign_in_with_the_secret_sets_a_strict_http_only_cookie(api: Api) -> None:
    assert (await api.client.get("/admin/usage")).headers["location"] == "/admin/login"
    answer = await sign_in(api, secret=api.tenant.api_secret)
    assert answer.status_code == 303
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "imagechat_admin=" in v
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain HTTP here; under TLS it is Secure
    usage = await api.client.get("/admin/usage")
    assert usage.status_code == 200 and "<svg" in usage.text
    assert "script" not in usage.headers["content-security-policy"].replace("'none'", "")
    assert usage.headers["x-frame-options"] == "DENY"


async def test_the_cookie_is_secure_under_tls(api: Api) -> None:
    form = await api.client.get("https://test/admin/login")
    answer = await api.client.post(
        "https://test/admin/login",
        data={"csrf": csrf_of(form), "tenant": api.tenant.id, "secret": api.tenant.api_secret},
    )
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "imagechat_admin=" in v
    )
    assert "Secure" in cookie


async def test_sign_in_refusals(api: Api) -> None:
    wrong = await sign_in(api, secret="nope")
    assert wrong.status_code == 401 and "credentials do not match" in wrong.text
    unknown = await api.client.post(
        "/admin/login",
        data={
            "csrf": csrf_of(await api.client.get("/admin/login")),
            "tenant": "x-none",
            "secret": "s",
        },
    )
    assert unknown.status_code == 401
    guest = await sign_in(api, token=await api.guest())
    assert guest.status_code == 403 and "moderator" in guest.text
    forged = await api.client.post(
        "/admin/login",
        data={"csrf": "forged", "tenant": api.tenant.id, "secret": api.tenant.api_secret},
    )
    assert forged.status_code == 403 and "imagechat_admin=" not in str(forged.headers)


async def test_sign_in_with_a_moderators_sso_session(api: Api) -> None:
    token = await api.sso("mod", "Mo", isModerator=True)
    answer = await sign_in(api, token=token)
    assert answer.status_code == 303
    page = await api.client.get("/admin/conversations")
    assert page.status_code == 200 and "Mo (moderator)" in page.text
    # Settings are for admins: a moderator reads them but may not change them.
    csrf = csrf_of(page)
    refused = await do(api, "settings", csrf, full="1", private="1", back="/admin/settings")
    assert refused.status_code == 403 and "admin_only" in refused.text


async def test_every_form_wants_the_csrf_token(api: Api) -> None:
    token = await api.guest()
    created = await api.create_chat(token, comment="hello")
    await signed_in(api)
    for action, fields in (
        ("hide", {"commentId": created["comment"]["id"]}),
        ("delete-chat", {"chatId": created["chat"]["id"]}),
        ("ban", {"userId": "x"}),
        ("settings", {"full": "1", "private": "1"}),
        ("rotate", {}),
    ):
        for bad in ("", "0" * 64):
            answer = await do(api, action, bad, **fields)
            assert answer.status_code == 403 and "csrf_failed" in answer.text, action
    assert (await api.chats())["chats"]  # nothing happened
    assert (await api.client.post("/admin/do/hide", data={"commentId": "x"})).status_code == 403


async def test_actions_without_a_session_are_refused(api: Api) -> None:
    answer = await api.client.post("/admin/do/hide", data={"csrf": "x", "commentId": "y"})
    assert answer.status_code == 401 and "sign in" in answer.text
    assert (await api.client.post("/admin/do/nothing", data={})).status_code == 404


async def test_console_moderation_takes_effect_live(api: Api) -> None:
    token = await api.guest("Gus")
    created = await api.create_chat(token, comment="first words")
    reply = await api.add_comment(token, created["chat"]["id"], "rude words")
    comment_id, chat_id = reply["comment"]["id"], created["chat"]["id"]
    await api.post(
        f"/comments/{comment_id}/flags",
        json={"reason": "rude", "broadcastId": new_bid()},
        token=await api.guest("Ann"),
    )
    csrf = await signed_in(api)
    queue = await api.client.get("/admin/moderation")
    assert "rude words" in queue.text and "rude" in queue.text
    back = "/admin/moderation"
    hidden = await do(api, "hide", csrf, commentId=comment_id, back=back)
    assert (
        hidden.status_code == 303 and hidden.headers["location"] == "/admin/moderation?done=hidden"
    )
    epoch = (await api.chats())["epoch"]
    assert (await api.events(epoch=epoch, since=0))["events"][-1]["change"] == "comment-hidden"
    assert (await do(api, "restore", csrf, commentId=comment_id, back=back)).status_code == 303
    assert (await api.events(epoch=epoch, since=0))["events"][-1]["change"] == "comment-restored"
    assert (await do(api, "resolve", csrf, chatId=chat_id)).status_code == 303
    assert (await api.get(f"/chats/{chat_id}")).json()["chat"]["resolved"] is True
    assert (await do(api, "lock", csrf, urlId="image-1")).status_code == 303
    thread = await api.client.get(f"/admin/conversations/{chat_id}")
    assert "Unlock the image" in thread.text
    refused = await api.post(
        f"/chats/{chat_id}/comments", json={"comment": "x", "broadcastId": new_bid()}, token=token
    )
    assert refused.status_code == 403 and refused.json()["code"] == "read_only"
    assert (await do(api, "unlock", csrf, urlId="image-1")).status_code == 303
    assert (
        await do(api, "ban", csrf, userId=reply["comment"]["author"]["id"], reason="rude")
    ).status_code == 303
    assert "rude" in (await api.client.get("/admin/moderation")).text
    refused = await api.post(
        f"/chats/{chat_id}/comments", json={"comment": "x", "broadcastId": new_bid()}, token=token
    )
    assert refused.json()["code"] == "banned"
    assert (
        await do(api, "unban", csrf, userId=reply["comment"]["author"]["id"])
    ).status_code == 303
    assert (await do(api, "delete-comment", csrf, commentId=comment_id)).status_code == 303
    assert (await do(api, "delete-chat", csrf, chatId=chat_id)).status_code == 303
    assert (await api.chats())["chats"] == []
    again = await do(api, "delete-chat", csrf, chatId=chat_id)
    assert again.status_code == 404 and "chat_not_found" in again.text


async def test_settings_forms(api: Api) -> None:
    csrf = await signed_in(api)
    saved = await do(
        api,
        "settings",
        csrf,
        full="1",
        origins="https://a.example\nhttps://b.example",
        readOnly="1",
        back="/admin/settings",
    )
    assert saved.status_code == 303
    found = (await api.get("/admin/settings", api_key=api.tenant.api_secret)).json()
    assert found == {
        "origins": ["https://a.example", "https://b.example"],
        "private": False,
        "readOnly": True,
        "autoHideFlags": 0,
    }
    assert (await do(api, "settings", csrf, autoHideFlags="3")).status_code == 303
    found = (await api.get("/admin/settings", api_key=api.tenant.api_secret)).json()
    assert found["autoHideFlags"] == 3 and found["readOnly"] is True  # the rest kept
    bad = await do(api, "settings", csrf, full="1", origins="not an origin")
    assert bad.status_code == 422 and "invalid_origin" in bad.text
    bad = await do(api, "settings", csrf, autoHideFlags="many")
    assert bad.status_code == 422
    # The SSO helper shows the hash the server expects.
    helper = await do(
        api, "sso-hash", csrf, userData="eyJpZCI6IjEiLCJ1c2VybmFtZSI6ImEifQ==", timestamp="1"
    )
    assert helper.status_code == 200 and 'data-test="sso-hash"' in helper.text
    # Rotating the secret keeps this console signed in, with the new one.
    rotated = await do(api, "rotate", csrf)
    assert rotated.status_code == 200
    secret = re.search(r'data-test="new-secret">([^<]+)<', rotated.text)
    assert secret and secret.group(1) != api.tenant.api_secret
    assert (await api.get("/admin/settings", api_key=secret.group(1))).status_code == 200
    assert (await api.client.get("/admin/settings")).status_code == 200


async def test_stored_markup_is_inert_in_every_page(api: Api) -> None:
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    token = await api.sso('x"><b>', payload[:60])
    created = await api.create_chat(token, url_id=payload, comment=payload)
    await api.post(
        f"/comments/{created['comment']['id']}/flags",
        json={"reason": payload, "broadcastId": new_bid()},
        token=token,
    )
    await api.post(
        "/admin/bans",
        json={"userId": created["comment"]["author"]["id"], "reason": payload},
        api_key=api.tenant.api_secret,
    )
    await signed_in(api)
    for path in (
        "/admin/conversations",
        f"/admin/conversations/{created['chat']['id']}",
        "/admin/moderation",
        "/admin/usage",
        "/admin/conversations?q=" + payload,
    ):
        page = await api.client.get(path)
        assert page.status_code == 200, path
        assert "<script>" not in page.text and "<img" not in page.text, path
        assert "<b>" not in page.text, path
    listing = (await api.client.get("/admin/conversations")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing


async def test_sign_out(api: Api) -> None:
    csrf = await signed_in(api)
    answer = await api.client.post("/admin/logout", data={"csrf": csrf})
    assert answer.status_code == 303
    assert (await api.client.get("/admin/usage")).headers["location"] == "/admin/login"


async def test_guessing_the_secret_is_rate_limited(
    make_app_client: Any, store: Any, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    async with make_app_client(store, write_rate=1.0, write_burst=3.0) as client:
        api = Api(client, tenant)
        answers = [await sign_in(api, secret=f"guess-{n}") for n in range(5)]
        assert [a.status_code for a in answers][:3] == [401, 401, 401]
        assert answers[-1].status_code == 429 and "too many requests" in answers[-1].text
