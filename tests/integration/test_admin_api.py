"""The moderation and admin API: every action, its live event, and every refusal.

Flags from people, the queue, hide/restore/dismiss (live, words out of the log while hidden),
bans (403 banned), locked images (403 read_only), auto-hide after N flags, the conversations
list with its search and filters, settings, the secret and the SSO helper.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from restkit import Api, MakeApi, assert_error, new_bid

from imagechat.domain import sso


async def moderator(api: Api) -> str:
    return await api.sso("mod", "Mo", isModerator=True)


async def flag(api: Api, token: str, comment_id: str, reason: str = "spam") -> Any:
    return await api.post(
        f"/comments/{comment_id}/flags",
        json={"reason": reason, "broadcastId": new_bid()},
        token=token,
    )


async def act(api: Api, action: str, comment_id: str, **auth: Any) -> Any:
    return await api.post(
        f"/admin/comments/{comment_id}/{action}", json={"broadcastId": new_bid()}, **auth
    )


async def seeded(api: Api) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A guest's chat with a first comment and a reply; (token, created, reply)."""
    token = await api.guest("Gus")
    created = await api.create_chat(token, comment="hello there")
    reply = await api.add_comment(token, created["chat"]["id"], "buy cheap pills")
    return token, created, reply


# --- flags and the queue -------------------------------------------------------------------------


async def test_people_flag_a_comment_and_it_waits_in_the_queue(api: Api) -> None:
    _token, _created, reply = await seeded(api)
    comment_id = reply["comment"]["id"]
    head = (await api.chats())["offset"]
    for name in ("Ann", "Ben"):
        answer = await flag(api, await api.guest(name), comment_id, f"spam says {name}")
        assert answer.status_code == 201, answer.text
        assert answer.json() == {"commentId": comment_id, "flagged": True}
    assert (await api.chats())["offset"] == head  # flags are no public event
    queue = await api.get("/admin/flags", api_key=api.tenant.api_secret)
    assert queue.status_code == 200
    [waiting] = queue.json()["comments"]
    assert waiting["id"] == comment_id and waiting["flagCount"] == 2
    assert waiting["hidden"] is False and waiting["urlId"] == "image-1"
    assert [f["reason"] for f in waiting["flags"]] == ["spam says Ann", "spam says Ben"]


async def test_flag_refusals(api: Api) -> None:
    _token, _created, reply = await seeded(api)
    comment_id = reply["comment"]["id"]
    flagger = await api.guest("Ann")
    assert (await flag(api, flagger, comment_id)).status_code == 201
    assert_error(await flag(api, flagger, comment_id), 409, "already_flagged")
    assert_error(await flag(api, flagger, "nope"), 404, "comment_not_found")
    assert_error(await flag(api, flagger, comment_id, "  "), 422, "invalid_reason")
    assert_error(await flag(api, flagger, comment_id, "x" * 501), 422, "invalid_reason")
    anonymous = await api.post(
        f"/comments/{comment_id}/flags", json={"reason": "spam", "broadcastId": new_bid()}
    )
    assert_error(anonymous, 401, "unauthorized")
    no_reason = await api.post(
        f"/comments/{comment_id}/flags", json={"broadcastId": new_bid()}, token=flagger
    )
    assert_error(no_reason, 422)
    assert_error(await api.post(f"/comments/{comment_id}/flags", content=b"[", token=flagger), 400)


async def test_auto_hide_after_n_flags(api: Api) -> None:
    key = api.tenant.api_secret
    changed = await api.patch("/admin/settings", json={"autoHideFlags": 2}, api_key=key)
    assert changed.status_code == 200 and changed.json()["autoHideFlags"] == 2
    _token, created, reply = await seeded(api)
    comment_id, chat_id = reply["comment"]["id"], created["chat"]["id"]
    assert (await flag(api, await api.guest("Ann"), comment_id)).status_code == 201
    thread = (await api.get(f"/chats/{chat_id}")).json()["comments"]
    assert comment_id in [c["id"] for c in thread]
    assert (await flag(api, await api.guest("Ben"), comment_id)).status_code == 201
    thread = (await api.get(f"/chats/{chat_id}")).json()["comments"]
    assert comment_id not in [c["id"] for c in thread]
    [event] = (await api.events(epoch=(await api.chats())["epoch"], since=reply["offset"]))[
        "events"
    ]
    assert event["change"] == "comment-hidden" and event["commentId"] == comment_id
    # Still in the queue: flags hide, a moderator decides.
    [waiting] = (await api.get("/admin/flags", api_key=key)).json()["comments"]
    assert waiting["hidden"] is True and waiting["flagCount"] == 2
    # A third flag on a hidden comment hides nothing again.
    assert (await flag(api, await api.guest("Cy"), comment_id)).status_code == 201
    assert (await api.chats())["offset"] == event["offset"]


# --- hide, restore, dismiss ----------------------------------------------------------------------


async def test_hide_and_restore_are_live_events_and_hidden_words_leave_the_log(api: Api) -> None:
    _token, created, reply = await seeded(api)
    comment_id, chat_id = reply["comment"]["id"], created["chat"]["id"]
    epoch = (await api.chats())["epoch"]
    mod = await moderator(api)
    hidden = await act(api, "hide", comment_id, token=mod)
    assert hidden.status_code == 200, hidden.text
    answer = hidden.json()
    assert answer["commentId"] == comment_id and answer["offset"] == reply["offset"] + 1
    assert answer["chat"]["version"] > reply["chat"]["version"]
    events = (await api.events(epoch=epoch, since=0))["events"]
    assert events[-1]["change"] == "comment-hidden"
    assert events[-1]["commentId"] == comment_id and "comment" not in events[-1]
    assert b"cheap pills" not in orjson.dumps(events)  # no replay shows hidden words
    public = (await api.get(f"/chats/{chat_id}")).json()["comments"]
    assert [c["body"] for c in public] == ["hello there"]
    staff_view = (await api.get(f"/admin/chats/{chat_id}", token=mod)).json()
    assert [(c["body"], c["hidden"]) for c in staff_view["comments"]] == [
        ("hello there", False),
        ("buy cheap pills", True),
    ]
    assert_error(await act(api, "hide", comment_id, token=mod), 409, "already_hidden")

    restored = await act(api, "restore", comment_id, token=mod)
    assert restored.status_code == 200, restored.text
    assert restored.json()["comment"]["body"] == "buy cheap pills"
    last = (await api.events(epoch=epoch, since=0))["events"][-1]
    assert last["change"] == "comment-restored" and last["comment"]["body"] == "buy cheap pills"
    public = (await api.get(f"/chats/{chat_id}")).json()["comments"]
    assert [c["body"] for c in public] == ["hello there", "buy cheap pills"]
    assert_error(await act(api, "restore", comment_id, token=mod), 409, "not_hidden")


async def test_a_decision_clears_the_queue(api: Api) -> None:
    _token, created, reply = await seeded(api)
    key = api.tenant.api_secret
    first = created["comment"]["id"]
    second = reply["comment"]["id"]
    await flag(api, await api.guest("Ann"), first)
    await flag(api, await api.guest("Ann"), second)
    head = (await api.chats())["offset"]
    dismissed = await act(api, "dismiss", first, api_key=key)
    assert dismissed.status_code == 200 and dismissed.json() == {"commentId": first}
    assert (await api.chats())["offset"] == head  # nothing changed for viewers
    assert (await act(api, "hide", second, api_key=key)).status_code == 200
    assert (await api.get("/admin/flags", api_key=key)).json()["comments"] == []


async def test_moderators_delete_flagged_comments_with_the_usual_routes(api: Api) -> None:
    _token, _created, reply = await seeded(api)
    mod = await moderator(api)
    await flag(api, await api.guest("Ann"), reply["comment"]["id"])
    deleted = await api.delete(
        f"/comments/{reply['comment']['id']}", params={"broadcastId": new_bid()}, token=mod
    )
    assert deleted.status_code == 200, deleted.text
    assert (await api.get("/admin/flags", token=mod)).json()["comments"] == []


async def test_a_hidden_comment_cannot_be_edited_by_its_author(api: Api) -> None:
    token, _created, reply = await seeded(api)
    comment_id = reply["comment"]["id"]
    assert (await act(api, "hide", comment_id, api_key=api.tenant.api_secret)).status_code == 200
    edited = await api.patch(
        f"/comments/{comment_id}", json={"comment": "sneaky", "broadcastId": new_bid()}, token=token
    )
    assert_error(edited, 403, "comment_hidden")


async def test_moderation_refusals(api: Api) -> None:
    token, _created, reply = await seeded(api)
    comment_id = reply["comment"]["id"]
    for action in ("hide", "restore", "dismiss"):
        assert_error(await act(api, action, comment_id, token=token), 403, "moderator_only")
        assert_error(await act(api, action, comment_id), 401, "unauthorized")
        assert_error(await act(api, action, comment_id, api_key="wrong"), 401, "invalid_api_key")
        assert_error(
            await act(api, action, "missing", api_key=api.tenant.api_secret),
            404,
            "comment_not_found",
        )
    for path in ("/admin/flags", "/admin/conversations", "/admin/bans", "/admin/live"):
        assert_error(await api.get(path, token=token), 403, "moderator_only")
        assert_error(await api.get(path), 401, "unauthorized")
    bad_body = await api.post(
        f"/admin/comments/{comment_id}/hide", json={}, api_key=api.tenant.api_secret
    )
    assert_error(bad_body, 422)


async def test_another_tenants_moderator_is_not_one_here(make_api: MakeApi) -> None:
    here, there = await make_api(), await make_api()
    _token, _created, reply = await seeded(here)
    foreign = await moderator(there)
    # A token of another tenant is 403, as PROTOCOL.md says; a wrong API key is 401.
    assert_error(
        await act(here, "hide", reply["comment"]["id"], token=foreign), 403, "token_wrong_tenant"
    )
    assert_error(
        await act(here, "hide", reply["comment"]["id"], api_key=there.tenant.api_secret), 401
    )


# --- bans ----------------------------------------------------------------------------------------


async def test_a_banned_user_cannot_write_until_unbanned(api: Api) -> None:
    key = api.tenant.api_secret
    token = await api.sso("troll", "Troll")
    created = await api.create_chat(token)
    banned = await api.post(
        "/admin/bans", json={"userId": "sso:troll", "reason": "spam"}, api_key=key
    )
    assert banned.status_code == 201, banned.text
    assert banned.json()["userId"] == "sso:troll" and banned.json()["name"] == "Troll"
    again = await api.post("/admin/bans", json={"userId": "sso:troll"}, api_key=key)
    assert again.status_code == 201 and again.json()["reason"] == "spam"
    listed = (await api.get("/admin/bans", api_key=key)).json()["bans"]
    assert [b["userId"] for b in listed] == ["sso:troll"]
    body = {"urlId": "image-1", "x": 1, "y": 1, "comment": "hi", "broadcastId": new_bid()}
    assert_error(await api.post("/chats", json=body, token=token), 403, "banned")
    reply = {"comment": "hi", "broadcastId": new_bid()}
    chat_id = created["chat"]["id"]
    assert_error(
        await api.post(f"/chats/{chat_id}/comments", json=reply, token=token), 403, "banned"
    )
    assert_error(await flag(api, token, created["comment"]["id"]), 403, "banned")
    # Reading goes on as before.
    assert (await api.get(f"/chats/{chat_id}", token=token)).status_code == 200
    lifted = await api.delete("/admin/bans/sso:troll", api_key=key)
    assert lifted.status_code == 200
    assert (await api.post("/chats", json=body, token=token)).status_code == 201
    assert_error(await api.delete("/admin/bans/sso:troll", api_key=key), 404, "ban_not_found")


async def test_ban_refusals(api: Api) -> None:
    key = api.tenant.api_secret
    guest = await api.guest()
    assert_error(
        await api.post("/admin/bans", json={"userId": "x"}, token=guest), 403, "moderator_only"
    )
    assert_error(
        await api.post("/admin/bans", json={"userId": ""}, api_key=key), 422, "invalid_user_id"
    )
    assert_error(
        await api.post("/admin/bans", json={"userId": "x", "reason": "r" * 501}, api_key=key),
        422,
        "invalid_reason",
    )
    assert_error(await api.post("/admin/bans", json={"userId": 5}, api_key=key), 422)


# --- locked images -------------------------------------------------------------------------------


async def test_a_locked_image_refuses_writes_but_moderators_and_other_images(api: Api) -> None:
    token = await api.guest()
    created = await api.create_chat(token)
    mod = await moderator(api)
    body = {"urlId": "image-1", "readOnly": True, "broadcastId": new_bid()}
    locked = await api.post("/admin/images/read-only", json=body, token=mod)
    assert locked.status_code == 200, locked.text
    assert locked.json() == {"urlId": "image-1", "readOnly": True, "offset": 2}
    snapshot = await api.chats()
    assert snapshot["readOnly"] is True and (await api.chats("image-2"))["readOnly"] is False
    [event] = (await api.events(epoch=snapshot["epoch"], since=1))["events"]
    assert event["type"] == "image-updated" and event["readOnly"] is True
    chat = {"urlId": "image-1", "x": 1, "y": 1, "comment": "hi", "broadcastId": new_bid()}
    assert_error(await api.post("/chats", json=chat, token=token), 403, "read_only")
    reply = {"comment": "hi", "broadcastId": new_bid()}
    chat_id = created["chat"]["id"]
    assert_error(
        await api.post(f"/chats/{chat_id}/comments", json=reply, token=token), 403, "read_only"
    )
    assert (
        await api.post(
            f"/chats/{chat_id}/comments", json=reply | {"broadcastId": new_bid()}, token=mod
        )
    ).status_code == 201
    assert (
        await api.post("/chats", json=chat | {"urlId": "image-2"}, token=token)
    ).status_code == 201
    conversations = (
        await api.get("/admin/conversations", token=mod, params={"urlId": "image-1"})
    ).json()
    assert conversations["conversations"][0]["imageReadOnly"] is True
    body = {"urlId": "image-1", "readOnly": False, "broadcastId": new_bid()}
    assert (await api.post("/admin/images/read-only", json=body, token=mod)).status_code == 200
    assert (await api.chats())["readOnly"] is False
    assert (
        await api.post("/chats", json=chat | {"broadcastId": new_bid()}, token=token)
    ).status_code == 201


async def test_unlocking_an_image_of_a_read_only_site_tells_viewers_it_stays_read_only(
    api: Api,
) -> None:
    key = api.tenant.api_secret
    mod = await moderator(api)
    lock = {"urlId": "image-1", "readOnly": True, "broadcastId": new_bid()}
    assert (await api.post("/admin/images/read-only", json=lock, token=mod)).status_code == 200
    changed = await api.patch("/admin/settings", json={"readOnly": True}, api_key=key)
    assert changed.status_code == 200, changed.text
    unlock = lock | {"readOnly": False, "broadcastId": new_bid()}
    answer = await api.post("/admin/images/read-only", json=unlock, token=mod)
    assert answer.status_code == 200 and answer.json()["readOnly"] is False  # the lock is off
    snapshot = await api.chats()
    assert snapshot["readOnly"] is True
    events = (await api.events(epoch=snapshot["epoch"], since=0))["events"]
    assert [e["readOnly"] for e in events] == [True, True]  # but writes stay refused


async def test_a_site_wide_read_only_change_is_logged_on_every_unlocked_image(api: Api) -> None:
    key = api.tenant.api_secret
    token = await api.guest()
    await api.create_chat(token)
    await api.create_chat(token, url_id="image-2")
    mod = await moderator(api)
    lock = {"urlId": "image-2", "readOnly": True, "broadcastId": new_bid()}
    assert (await api.post("/admin/images/read-only", json=lock, token=mod)).status_code == 200
    before = {url_id: await api.chats(url_id) for url_id in ("image-1", "image-2")}

    async def since_before(url_id: str) -> list[dict[str, Any]]:
        head = before[url_id]
        found = await api.events(url_id, epoch=head["epoch"], since=head["offset"])
        return list(found["events"])

    changed = await api.patch("/admin/settings", json={"readOnly": True}, api_key=key)
    assert changed.status_code == 200, changed.text
    [event] = await since_before("image-1")
    assert event["type"] == "image-updated" and event["readOnly"] is True
    assert await since_before("image-2") == []  # locked: read-only before and after
    # The same value again changes nothing and says nothing.
    assert (await api.patch("/admin/settings", json={"readOnly": True}, api_key=key)).is_success
    assert len(await since_before("image-1")) == 1
    assert (await api.patch("/admin/settings", json={"readOnly": False}, api_key=key)).is_success
    assert [e["readOnly"] for e in await since_before("image-1")] == [True, False]
    assert (await api.chats("image-1"))["readOnly"] is False
    assert (await api.chats("image-2"))["readOnly"] is True


async def test_racing_site_switches_leave_the_image_saying_the_state_that_won(api: Api) -> None:
    """Parallel switches (separate connections on PostgreSQL): whatever order they commit in,
    the image's last image-updated says what its snapshot says."""
    key = api.tenant.api_secret
    await api.create_chat(await api.guest())
    for _ in range(3):
        answers = await asyncio.gather(
            *(
                api.patch("/admin/settings", json={"readOnly": value}, api_key=key)
                for value in (True, False, True, False, True)
            )
        )
        assert all(answer.status_code == 200 for answer in answers), answers
        snapshot = await api.chats()
        events = (await api.events(epoch=snapshot["epoch"], since=0))["events"]
        updates = [event for event in events if event["type"] == "image-updated"]
        assert updates, "some switch changed the state"
        assert updates[-1]["readOnly"] is snapshot["readOnly"]


async def test_lock_refusals(api: Api) -> None:
    guest = await api.guest()
    body = {"urlId": "image-1", "readOnly": True, "broadcastId": new_bid()}
    assert_error(
        await api.post("/admin/images/read-only", json=body, token=guest), 403, "moderator_only"
    )
    key = api.tenant.api_secret
    bad = body | {"urlId": ""}
    assert_error(
        await api.post("/admin/images/read-only", json=bad, api_key=key), 422, "invalid_url_id"
    )
    bad = body | {"readOnly": "yes"}
    assert_error(await api.post("/admin/images/read-only", json=bad, api_key=key), 422)
    bad = body | {"broadcastId": "nope"}
    assert_error(await api.post("/admin/images/read-only", json=bad, api_key=key), 422)


# --- conversations -------------------------------------------------------------------------------


async def test_conversations_newest_first_with_search_and_filters(api: Api) -> None:
    key = api.tenant.api_secret
    ann, bob = await api.guest("Ann"), await api.guest("Bob")
    first = await api.create_chat(ann, url_id="cats.jpg", comment="a tabby on the sofa")
    second = await api.create_chat(bob, url_id="dogs.jpg", comment="a puppy 100% cute")
    third = await api.create_chat(ann, url_id="dogs.jpg", comment="another dog")
    await api.add_comment(bob, first["chat"]["id"], "lovely cat")
    mod = await moderator(api)
    resolve = {"resolved": True, "broadcastId": new_bid()}
    assert (
        await api.patch(f"/chats/{third['chat']['id']}", json=resolve, token=mod)
    ).status_code == 200
    await flag(api, ann, second["comment"]["id"])

    async def ids(**params: Any) -> list[str]:
        answer = await api.get("/admin/conversations", params=params, api_key=key)
        assert answer.status_code == 200, answer.text
        return [c["chat"]["id"] for c in answer.json()["conversations"]]

    a, b, c = first["chat"]["id"], second["chat"]["id"], third["chat"]["id"]
    assert await ids() == [c, b, a]
    assert await ids(q="TABBY") == [a]
    assert await ids(q="lovely") == [a]  # any comment of the thread
    assert await ids(q="100%") == [b]  # LIKE wildcards are text
    assert await ids(q="_") == []  # matches no character but itself
    assert await ids(author="bob") == [b, a]
    assert await ids(urlId="dogs") == [c, b]
    assert await ids(status="resolved") == [c]
    assert await ids(status="open") == [b, a]
    assert await ids(status="flagged") == [b]
    assert await ids(status="hidden") == []
    page = (await api.get("/admin/conversations", params={"perPage": 2}, api_key=key)).json()
    assert [x["chat"]["id"] for x in page["conversations"]] == [c, b] and page["more"] is True
    row = page["conversations"][1]
    assert row["firstComment"]["body"] == "a puppy 100% cute" and row["flagCount"] == 1
    page2 = (
        await api.get("/admin/conversations", params={"perPage": 2, "page": 2}, api_key=key)
    ).json()
    assert [x["chat"]["id"] for x in page2["conversations"]] == [a] and page2["more"] is False
    assert_error(
        await api.get("/admin/conversations", params={"status": "x"}, api_key=key),
        422,
        "invalid_status",
    )
    assert_error(await api.get("/admin/conversations", params={"page": 0}, api_key=key), 422)
    assert_error(
        await api.get("/admin/conversations", params={"q": "a\x00"}, api_key=key),
        422,
        "invalid_search",
    )
    assert_error(await api.get("/admin/chats/missing", api_key=key), 404, "chat_not_found")


# --- settings, secret, SSO helper ----------------------------------------------------------------


async def test_settings_are_for_admins_and_take_effect(api: Api) -> None:
    key = api.tenant.api_secret
    mod = await moderator(api)
    assert_error(await api.get("/admin/settings", token=mod), 403, "admin_only")
    assert_error(
        await api.patch("/admin/settings", json={"private": True}, token=mod), 403, "admin_only"
    )
    before = (await api.get("/admin/settings", api_key=key)).json()
    assert before == {"origins": [], "private": False, "readOnly": False, "autoHideFlags": 0}
    changed = await api.patch(
        "/admin/settings",
        json={"origins": ["https://Example.com/"], "readOnly": True, "private": True},
        api_key=key,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "origins": ["https://example.com"],
        "private": True,
        "readOnly": True,
        "autoHideFlags": 0,
    }
    assert_error(await api.get("/chats", params={"urlId": "i"}), 401, "unauthorized")
    assert (await api.chats("i", api_key=key))["readOnly"] is True
    assert_error(
        await api.get("/chats", params={"urlId": "i"}, api_key=key, origin="https://evil.test"), 403
    )
    for bad, code in (
        ({"origins": ["ftp://x"]}, "invalid_origin"),
        ({"autoHideFlags": -1}, "invalid_auto_hide"),
        ({"autoHideFlags": 100000}, "invalid_auto_hide"),
    ):
        assert_error(await api.patch("/admin/settings", json=bad, api_key=key), 422, code)
    assert_error(await api.patch("/admin/settings", json={"private": "yes"}, api_key=key), 422)


async def test_rotating_the_secret_retires_the_old_one(api: Api) -> None:
    old = api.tenant.api_secret
    token = await api.guest()
    assert_error(await api.post("/admin/secret", token=token), 403, "moderator_only")
    rotated = await api.post("/admin/secret", api_key=old)
    assert rotated.status_code == 200
    new = rotated.json()["apiSecret"]
    assert new != old and len(new) >= 40
    assert_error(await api.get("/admin/settings", api_key=old), 401, "invalid_api_key")
    assert (await api.get("/admin/settings", api_key=new)).status_code == 200
    assert_error(await api.get("/chats/x", token=token), 401)  # sessions signed with the old one


async def test_sso_hash_helper(api: Api) -> None:
    key = api.tenant.api_secret
    data = sso.encode_user_data({"id": "7", "username": "Grace", "isModerator": True})
    moment = int(time.time() * 1000)
    answer = await api.post(
        "/admin/sso-hash", json={"userDataJSONBase64": data, "timestamp": moment}, api_key=key
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["verificationHash"] == sso.sign(key, data, moment)
    assert found["user"]["role"] == "moderator" and found["problem"] is None
    junk = await api.post(
        "/admin/sso-hash", json={"userDataJSONBase64": "!!", "timestamp": moment}, api_key=key
    )
    assert junk.status_code == 200 and junk.json()["user"] is None and junk.json()["problem"]
    assert_error(
        await api.post(
            "/admin/sso-hash", json={"userDataJSONBase64": "é", "timestamp": 1}, api_key=key
        ),
        422,
        "invalid_sso",
    )
    mod = await moderator(api)
    assert_error(
        await api.post(
            "/admin/sso-hash", json={"userDataJSONBase64": data, "timestamp": 1}, token=mod
        ),
        403,
        "admin_only",
    )


@pytest.mark.parametrize("path", ["/admin/live"])
async def test_live_now(api: Api, path: str) -> None:
    answer = await api.get(path, api_key=api.tenant.api_secret)
    assert answer.status_code == 200
    assert answer.json() == {"connections": 0, "topImages": [], "eventsPerSecond": 0.0}


async def test_auto_hide_works_on_a_locked_image(api: Api) -> None:
    key = api.tenant.api_secret
    await api.patch("/admin/settings", json={"autoHideFlags": 1}, api_key=key)
    _token, _created, reply = await seeded(api)
    lock = {"urlId": "image-1", "readOnly": True, "broadcastId": new_bid()}
    assert (await api.post("/admin/images/read-only", json=lock, api_key=key)).status_code == 200
    assert (await flag(api, await api.guest("Ann"), reply["comment"]["id"])).status_code == 201
    [waiting] = (await api.get("/admin/flags", api_key=key)).json()["comments"]
    assert waiting["hidden"] is True
