"""Every way a request can be wrong, each answered with its status and the Error shape."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from restkit import Api, assert_error, b64, new_bid, sso_payload

from imagechat.domain import limits, tokens
from imagechat.domain.models import User
from imagechat.settings import Settings
from imagechat.web.app import create_app

JSON = {"Content-Type": "application/json"}


def chat_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "urlId": "image-1",
        "x": 10,
        "y": 20,
        "comment": "hello",
        "broadcastId": new_bid(),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture()
async def token(api: Api) -> str:
    return await api.guest("Tess")


@pytest.fixture()
async def chat(api: Api, token: str) -> dict[str, Any]:
    return await api.create_chat(token)


def raw_json(**fragments: str) -> bytes:
    """A JSON object whose values are given as raw JSON text: for literals like NaN and
    escapes like \\ud800 that no well-behaved encoder would produce."""
    return ("{" + ", ".join(f'"{key}": {value}' for key, value in fragments.items()) + "}").encode()


def raw_chat(**fragments: str) -> bytes:
    """A POST /chats body in raw JSON: valid unless `fragments` say otherwise."""
    base = {
        "urlId": '"image-1"',
        "x": "1",
        "y": "1",
        "comment": '"c"',
        "broadcastId": f'"{new_bid()}"',
    }
    return raw_json(**{**base, **fragments})


async def assert_nothing_written(api: Api, url_id: str = "image-1") -> None:
    listing = await api.chats(url_id)
    assert listing["offset"] == 0 and listing["chats"] == []


# --------------------------------------------------------------------------------------------
# 400: not JSON, or not an object
# --------------------------------------------------------------------------------------------


async def test_malformed_json_is_400(api: Api, token: str) -> None:
    for raw in (b"{", b"not json", b'{"urlId": "a",}', b"\xff\xfe", b'{"x": 1} trailing'):
        answer = await api.post("/chats", content=raw, headers=JSON, token=token)
        assert_error(answer, 400, "malformed_json")
    # No body at all is "not an object".
    answer = await api.post("/chats", content=b"", headers=JSON, token=token)
    assert_error(answer, 400, "malformed_body")
    await assert_nothing_written(api)


async def test_body_that_is_not_an_object_is_400(api: Api, token: str) -> None:
    for raw in (b"[]", b"[1, 2]", b'"text"', b"42", b"true", b"null"):
        answer = await api.post("/chats", content=raw, headers=JSON, token=token)
        assert_error(answer, 400, "malformed_body")
        reply = await api.post("/chats/abc/comments", content=raw, headers=JSON, token=token)
        assert_error(reply, 400, "malformed_body")
    # A valid object not sent as JSON is not read as one.
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = await api.post(
            "/chats", content=raw_chat(), headers={"Content-Type": content_type}, token=token
        )
        assert_error(answer, 400, "malformed_body")
    await assert_nothing_written(api)


async def test_session_body_not_an_object_is_400(api: Api) -> None:
    assert_error(await api.post("/sessions", content=b"[]", headers=JSON), 400, "malformed_body")
    assert_error(await api.post("/sessions", content=b"{", headers=JSON), 400, "malformed_json")


# --------------------------------------------------------------------------------------------
# 422: well-formed JSON with missing, wrong-typed or out-of-range fields
# --------------------------------------------------------------------------------------------


async def test_missing_field_is_422(api: Api, token: str) -> None:
    for field in ("urlId", "x", "y", "comment", "broadcastId"):
        answer = await api.post("/chats", json=chat_body(**{field: ...}), token=token)
        body = assert_error(answer, 422, "invalid_request")
        assert field in body["message"], body
    await assert_nothing_written(api)


WRONG_TYPES = [
    ("urlId", 5),
    ("urlId", None),
    ("x", "10"),
    ("x", True),
    ("x", None),
    ("y", [1]),
    ("comment", 3),
    ("comment", {"text": "hi"}),
    ("broadcastId", 123),
    ("pageUrl", 7),
    ("imageSrc", ["a"]),
]


async def test_wrong_type_is_422(api: Api, token: str) -> None:
    for field, value in WRONG_TYPES:
        answer = await api.post("/chats", json=chat_body(**{field: value}), token=token)
        body = assert_error(answer, 422, "invalid_request")
        assert field in body["message"], (field, body)
    await assert_nothing_written(api)


async def test_coordinate_out_of_range_is_422(api: Api, token: str) -> None:
    for field, value in [("x", 150), ("x", -0.001), ("y", 100.0001), ("y", -5), ("x", 1e300)]:
        answer = await api.post("/chats", json=chat_body(**{field: value}), token=token)
        body = assert_error(answer, 422, "invalid_coordinate")
        assert field in body["message"], body
    await assert_nothing_written(api)


async def test_coordinate_edges_are_accepted(api: Api, token: str) -> None:
    for value in (0, 100, 0.0, 99.999, 50):
        answer = await api.post("/chats", json=chat_body(x=value, y=value), token=token)
        assert answer.status_code == 201, answer.text
        assert answer.json()["chat"]["x"] == value


async def test_non_finite_coordinates_are_422(api: Api, token: str) -> None:
    for literal in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400"):
        raw = raw_chat(x=literal)
        answer = await api.post("/chats", content=raw, headers=JSON, token=token)
        # Python's JSON parser reads the NaN/Infinity literals (and 1e400) as non-finite
        # floats, which the coordinate rule refuses: no chat, and never a 500.
        assert_error(answer, 422, "invalid_coordinate")
    await assert_nothing_written(api)


async def test_non_finite_coordinate_in_patch_is_422(
    api: Api, token: str, chat: dict[str, Any]
) -> None:
    raw = b'{"broadcastId": "%s", "y": 1e999}' % new_bid().encode()
    answer = await api.patch(f"/chats/{chat['chat']['id']}", content=raw, headers=JSON, token=token)
    assert_error(answer, 422, "invalid_coordinate")


async def test_empty_comment_is_422(api: Api, token: str) -> None:
    for comment in ("", " ", "   \n\t  ", "\u00a0\u2003"):
        answer = await api.post("/chats", json=chat_body(comment=comment), token=token)
        assert_error(answer, 422, "invalid_comment")
    await assert_nothing_written(api)


async def test_comment_length_is_judged_after_trimming(api: Api, token: str) -> None:
    longest = "  " + "a" * limits.MAX_COMMENT + "\n\n"
    ok = await api.post("/chats", json=chat_body(comment=longest), token=token)
    assert ok.status_code == 201, ok.text
    assert ok.json()["comment"]["body"] == longest  # stored as given
    too_long = "b" * (limits.MAX_COMMENT + 1)
    refused = await api.post("/chats", json=chat_body(comment=too_long), token=token)
    assert_error(refused, 422, "invalid_comment")


async def test_reply_and_edit_check_comment_rules(
    api: Api, token: str, chat: dict[str, Any]
) -> None:
    chat_id, comment_id = chat["chat"]["id"], chat["comment"]["id"]
    empty = await api.post(
        f"/chats/{chat_id}/comments", json={"comment": "  ", "broadcastId": new_bid()}, token=token
    )
    assert_error(empty, 422, "invalid_comment")
    long = await api.patch(
        f"/comments/{comment_id}",
        json={"comment": "x" * (limits.MAX_COMMENT + 1), "broadcastId": new_bid()},
        token=token,
    )
    assert_error(long, 422, "invalid_comment")
    missing = await api.patch(
        f"/comments/{comment_id}", json={"broadcastId": new_bid()}, token=token
    )
    assert_error(missing, 422, "invalid_request")
    assert (await api.chats())["offset"] == 1


async def test_bad_url_id_in_a_write_is_422(api: Api, token: str) -> None:
    for url_id in ("", "x" * (limits.MAX_URL_ID + 1), "a\nb", "tab\there", "del\x7f"):
        answer = await api.post("/chats", json=chat_body(urlId=url_id), token=token)
        assert_error(answer, 422, "invalid_url_id")


async def test_longest_url_id_is_accepted(api: Api, token: str) -> None:
    url_id = "u" * limits.MAX_URL_ID
    made = await api.create_chat(token, url_id=url_id)
    assert made["chat"]["urlId"] == url_id
    assert (await api.chats(url_id))["offset"] == 1


async def test_bad_url_id_in_a_read_is_422(api: Api) -> None:
    for url_id in ("", "x" * (limits.MAX_URL_ID + 1), "nul\x00"):
        assert_error(await api.get("/chats", params={"urlId": url_id}), 422, "invalid_url_id")
        assert_error(await api.get("/events", params={"urlId": url_id}), 422, "invalid_url_id")


async def test_missing_url_id_in_a_read_is_422(api: Api) -> None:
    assert_error(await api.get("/chats"), 422, "invalid_request")
    assert_error(await api.get("/events"), 422, "invalid_request")


async def test_bad_broadcast_id_is_422(api: Api, token: str) -> None:
    for bid in ("", "not-a-uuid", "1234", "g" * 36, "12345678-1234-1234-1234-1234567890123"):
        answer = await api.post("/chats", json=chat_body(broadcastId=bid), token=token)
        assert_error(answer, 422, "invalid_broadcast_id")
    await assert_nothing_written(api)


async def test_broadcast_id_spellings_are_one_key(api: Api, token: str) -> None:
    """Upper case, braces or no dashes: the same UUID, so the same write."""
    bid = new_bid()
    first = await api.post("/chats", json=chat_body(broadcastId=bid), token=token)
    again = await api.post("/chats", json=chat_body(broadcastId=bid.upper()), token=token)
    bare = await api.post("/chats", json=chat_body(broadcastId=bid.replace("-", "")), token=token)
    assert first.status_code == again.status_code == bare.status_code == 201
    assert first.json() == again.json() == bare.json()
    assert (await api.chats())["offset"] == 1


async def test_bad_broadcast_id_on_delete_is_422(
    api: Api, token: str, chat: dict[str, Any]
) -> None:
    chat_id, comment_id = chat["chat"]["id"], chat["comment"]["id"]
    for path in (f"/chats/{chat_id}", f"/comments/{comment_id}"):
        bad = await api.delete(path, params={"broadcastId": "nope"}, token=token)
        assert_error(bad, 422, "invalid_broadcast_id")
        missing = await api.delete(path, token=token)
        assert_error(missing, 422, "invalid_request")
    assert (await api.chats())["offset"] == 1


async def test_too_long_page_url_is_422(api: Api, token: str) -> None:
    too_long = "https://a.example/" + "p" * limits.MAX_PAGE_URL
    answer = await api.post("/chats", json=chat_body(pageUrl=too_long), token=token)
    assert_error(answer, 422, "invalid_url")
    answer = await api.post("/chats", json=chat_body(imageSrc=too_long), token=token)
    assert_error(answer, 422, "invalid_url")
    fine = await api.post(
        "/chats", json=chat_body(pageUrl="https://a.example/p", imageSrc="/i.png"), token=token
    )
    assert fine.status_code == 201, fine.text


async def test_patch_with_nothing_to_change_is_422(
    api: Api, token: str, chat: dict[str, Any]
) -> None:
    chat_id = chat["chat"]["id"]
    answer = await api.patch(f"/chats/{chat_id}", json={"broadcastId": new_bid()}, token=token)
    assert_error(answer, 422, "nothing_to_change")
    nulls = {"broadcastId": new_bid(), "x": None, "y": None, "resolved": None}
    assert_error(await api.patch(f"/chats/{chat_id}", json=nulls, token=token), 422)
    assert (await api.chats())["offset"] == 1


async def test_patch_with_wrong_types_is_422(api: Api, token: str, chat: dict[str, Any]) -> None:
    chat_id = chat["chat"]["id"]
    for change in ({"resolved": "yes"}, {"resolved": 1}, {"x": "5"}):
        answer = await api.patch(
            f"/chats/{chat_id}", json={"broadcastId": new_bid(), **change}, token=token
        )
        assert_error(answer, 422, "invalid_request")


async def test_negative_since_is_422(api: Api) -> None:
    for since in ("-1", "-100"):
        answer = await api.get("/events", params={"urlId": "image-1", "since": since})
        assert_error(answer, 422, "invalid_offset")


async def test_non_integer_since_is_422(api: Api) -> None:
    for since in ("abc", "1.5", "", "0x10", "1e3"):
        answer = await api.get("/events", params={"urlId": "image-1", "since": since})
        assert_error(answer, 422, "invalid_request")
    # A huge offset is a number, just one no history reaches.
    huge = await api.events("image-1", since="9" * 40)
    assert huge["recovered"] is False


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------


async def test_session_needs_exactly_one_kind(api: Api) -> None:
    sso = {"userDataJSONBase64": "", "verificationHash": "", "timestamp": 1}
    for body in ({}, {"guest": {"name": "a"}, "sso": sso}, {"guest": None, "sso": None}):
        answer = await api.post("/sessions", json=body)
        assert_error(answer, 422, "invalid_session_request")


async def test_bad_guest_name_is_422(api: Api) -> None:
    for name in ("", "   ", "n" * (limits.MAX_NAME + 1)):
        answer = await api.post("/sessions", json={"guest": {"name": name}})
        assert_error(answer, 422, "invalid_name")


async def test_guest_name_of_wrong_type_is_422(api: Api) -> None:
    answer = await api.post("/sessions", json={"guest": {"name": 5}})
    assert_error(answer, 422, "invalid_request")
    answer = await api.post("/sessions", json={"guest": "Bob"})
    assert_error(answer, 422, "invalid_request")


async def test_sso_errors(api: Api) -> None:
    secret = api.tenant.api_secret
    user = {"id": "u1", "username": "Una"}
    now_ms = int(time.time() * 1000)

    async def attempt(sso: dict[str, Any]) -> httpx.Response:
        return await api.post("/sessions", json={"sso": sso})

    forged = sso_payload(secret, user)
    forged["verificationHash"] = sso_payload("another secret", user)["verificationHash"]
    assert_error(await attempt(forged), 401, "sso_invalid_hash")

    expired = sso_payload(secret, user, timestamp=now_ms - limits.SSO_MAX_AGE_MS - 60_000)
    assert_error(await attempt(expired), 401, "sso_expired")

    future = sso_payload(secret, user, timestamp=now_ms + 3600_000)
    assert_error(await attempt(future), 401, "sso_future_timestamp")

    junk = sso_payload(secret, user, user_data="%%% not base64 %%%")
    assert_error(await attempt(junk), 401, "sso_malformed_user_data")

    not_json = sso_payload(secret, user, user_data=b64(b"{not json"))
    assert_error(await attempt(not_json), 401, "sso_malformed_user_data")

    no_name = sso_payload(secret, {"id": "u1"})
    assert_error(await attempt(no_name), 401, "sso_malformed_user_data")

    too_long = sso_payload(secret, user, user_data="A" * (limits.MAX_SSO_USER_DATA + 4))
    assert_error(await attempt(too_long), 401, "sso_user_data_too_large")

    # A timestamp sent as a string is refused like any other bad payload.
    as_text = dict(sso_payload(secret, user))
    as_text["timestamp"] = str(as_text["timestamp"])
    assert_error(await attempt(as_text), 401, "sso_invalid_timestamp")
    missing = sso_payload(secret, user)
    del missing["verificationHash"]
    assert_error(await attempt(missing), 422, "invalid_request")


async def test_non_ascii_sso_hash_is_401_not_500(api: Api) -> None:
    for forged_hash in ("é" * 64, "ＡＢ", "💥"):
        sso = sso_payload(api.tenant.api_secret, {"id": "u1", "username": "Una"})
        sso["verificationHash"] = forged_hash
        assert_error(await api.post("/sessions", json={"sso": sso}), 401, "sso_invalid_hash")


async def test_non_ascii_sso_user_data_is_401_not_500(api: Api) -> None:
    for data in ('"\\ud800abc"', '"ünï"'):
        sso = raw_json(userDataJSONBase64=data, verificationHash='"00"', timestamp="1").decode()
        answer = await api.post("/sessions", content=raw_json(sso=sso), headers=JSON)
        assert_error(answer, 401, "sso_malformed_user_data")


# --------------------------------------------------------------------------------------------
# 401: credentials
# --------------------------------------------------------------------------------------------


async def test_write_without_token_is_401(api: Api) -> None:
    assert_error(await api.post("/chats", json=chat_body()), 401, "unauthorized")
    await assert_nothing_written(api)


GARBAGE_AUTHORIZATION = [
    "Bearer garbage",
    "Bearer v1.abc.def",
    "Bearer v2.abc.def",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "token-without-scheme",
    "Bearer a.b.c.d",
    "Bearer v1.!!!.???",
]


async def test_garbage_token_is_401(api: Api) -> None:
    for header in GARBAGE_AUTHORIZATION:
        answer = await api.post("/chats", json=chat_body(), headers={"Authorization": header})
        assert_error(answer, 401, "invalid_token")
    await assert_nothing_written(api)


async def test_non_ascii_token_is_401_not_500(api: Api, token: str) -> None:
    version, body, _mac = token.split(".")
    forged = f"Bearer {version}.{body}.".encode() + b"\xe9\xe9\xe9"
    answer = await api.client.post(
        api.path("/chats"), json=chat_body(), headers={"Authorization": forged}
    )
    assert_error(answer, 401, "invalid_token")


async def test_tampered_token_is_401(api: Api, token: str) -> None:
    version, body, mac = token.split(".")
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    answer = await api.post("/chats", json=chat_body(), token=f"{version}.{body}.{flipped}")
    assert_error(answer, 401, "invalid_token")


async def test_expired_token_is_401(api: Api) -> None:
    user = User(id="guest:old", name="Old", avatar_url=None, role="guest")
    old = tokens.issue(
        api.tenant.api_secret, tokens.Session(api.tenant.id, user, int(time.time()) - 1)
    )
    answer = await api.post("/chats", json=chat_body(), token=old)
    assert_error(answer, 401, "token_expired")
    await assert_nothing_written(api)


async def test_wrong_api_key_is_401(api: Api) -> None:
    for key in ("wrong", api.tenant.api_secret + "x", ""):
        answer = await api.get("/usage", api_key=key)
        assert_error(answer, 401, "invalid_api_key")
        answer = await api.post("/chats", json=chat_body(), api_key=key)
        assert_error(answer, 401, "invalid_api_key")
    await assert_nothing_written(api)


# --------------------------------------------------------------------------------------------
# 404 and 405
# --------------------------------------------------------------------------------------------


async def test_unknown_tenant_is_404(app_client: httpx.AsyncClient) -> None:
    routes = [
        ("GET", "/chats?urlId=a"),
        ("POST", "/sessions"),
        ("GET", "/events?urlId=a"),
        ("GET", "/usage"),
        ("GET", "/chats/abc"),
    ]
    for tenant in ("nope", "a%00b", "UPPER", "x" * 70, "-dash"):
        for method, path in routes:
            answer = await app_client.request(
                method, f"/api/v1/{tenant}{path}", json={"guest": {"name": "a"}}
            )
            assert_error(answer, 404, "tenant_not_found")


async def test_unknown_chat_and_comment_are_404(api: Api, token: str) -> None:
    bid = {"broadcastId": new_bid()}
    assert_error(await api.get("/chats/missing"), 404, "chat_not_found")
    assert_error(await api.get("/chats/a%00b"), 404, "chat_not_found")
    answer = await api.post("/chats/missing/comments", json={"comment": "x", **bid}, token=token)
    assert_error(answer, 404, "chat_not_found")
    answer = await api.patch("/chats/missing", json={"resolved": True, **bid}, token=token)
    assert_error(answer, 404, "chat_not_found")
    assert_error(await api.delete("/chats/missing", params=bid, token=token), 404, "chat_not_found")
    answer = await api.patch("/comments/missing", json={"comment": "x", **bid}, token=token)
    assert_error(answer, 404, "comment_not_found")
    answer = await api.delete("/comments/missing", params=bid, token=token)
    assert_error(answer, 404, "comment_not_found")
    answer = await api.delete("/comments/a%00b", params=bid, token=token)
    assert_error(answer, 404, "comment_not_found")


async def test_unknown_route_is_404(app_client: httpx.AsyncClient, api: Api) -> None:
    for path in ("/nowhere", "/api/v2/x", api.path("/nothing-here"), "/api/v1"):
        assert_error(await app_client.get(path), 404, "not_found")


async def test_unsupported_method_is_405(api: Api) -> None:
    for method, path in [
        ("PUT", "/chats"),
        ("DELETE", "/chats"),
        ("GET", "/sessions"),
        ("POST", "/events"),
        ("DELETE", "/usage"),
        ("PUT", "/chats/abc"),
        ("GET", "/comments/abc"),
    ]:
        answer = await api.request(method, path)
        assert_error(answer, 405, "method_not_allowed")
        assert "allow" in {key.lower() for key in answer.headers}


# --------------------------------------------------------------------------------------------
# 413: bodies over 64 KiB
# --------------------------------------------------------------------------------------------


def _big_body() -> bytes:
    return raw_chat(pad='"' + "p" * (limits.MAX_REQUEST_BYTES + 10) + '"')


async def test_body_over_limit_with_content_length_is_413(api: Api, token: str) -> None:
    answer = await api.post("/chats", content=_big_body(), headers=JSON, token=token)
    assert_error(answer, 413, "too_large")
    await assert_nothing_written(api)


async def test_body_over_limit_chunked_is_413(api: Api, token: str) -> None:
    body = _big_body()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    answer = await api.post("/chats", content=chunks(), headers=JSON, token=token)
    assert "content-length" not in answer.request.headers
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert_error(answer, 413, "too_large")
    await assert_nothing_written(api)


async def test_small_chunked_body_is_accepted(api: Api, token: str) -> None:
    body = raw_chat()

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:10]
        yield body[10:]

    answer = await api.post("/chats", content=chunks(), headers=JSON, token=token)
    assert answer.status_code == 201, answer.text


def _body_of_size(size: int) -> bytes:
    """A valid POST /chats body padded (with an ignored field) to exactly `size` bytes."""
    bare = len(raw_chat(pad='""'))
    body = raw_chat(pad='"' + "p" * (size - bare) + '"')
    assert len(body) == size
    return body


async def test_the_limit_is_exact(api: Api, token: str) -> None:
    at_limit = await api.post(
        "/chats", content=_body_of_size(limits.MAX_REQUEST_BYTES), headers=JSON, token=token
    )
    assert at_limit.status_code == 201, at_limit.text
    over = await api.post(
        "/chats", content=_body_of_size(limits.MAX_REQUEST_BYTES + 1), headers=JSON, token=token
    )
    assert_error(over, 413, "too_large")
    assert (await api.chats())["offset"] == 1


# --------------------------------------------------------------------------------------------
# Text that a database would choke on
# --------------------------------------------------------------------------------------------


UNSTORABLE = ('"nul \\u0000 inside"', '"lone \\ud800 surrogate"', '"\\udfff"')


async def test_unstorable_comment_is_422(api: Api, token: str, chat: dict[str, Any]) -> None:
    """NUL (refused by PostgreSQL) and lone surrogates (not UTF-8) are refused, not a 500."""
    for bad in UNSTORABLE:
        raw = raw_chat(urlId='"image-2"', comment=bad)
        answer = await api.post("/chats", content=raw, headers=JSON, token=token)
        assert_error(answer, 422, "invalid_comment")
        raw = raw_json(comment=bad, broadcastId=f'"{new_bid()}"')
        reply = await api.post(
            f"/chats/{chat['chat']['id']}/comments", content=raw, headers=JSON, token=token
        )
        assert_error(reply, 422, "invalid_comment")
        edit = await api.patch(
            f"/comments/{chat['comment']['id']}", content=raw, headers=JSON, token=token
        )
        assert_error(edit, 422, "invalid_comment")
    await assert_nothing_written(api, "image-2")
    assert (await api.chats())["offset"] == 1


async def test_unstorable_strings_are_422(api: Api, token: str) -> None:
    codes = {"urlId": "invalid_url_id", "pageUrl": "invalid_url", "imageSrc": "invalid_url"}
    for field, code in codes.items():
        for bad in UNSTORABLE:
            raw = raw_chat(**{field: bad})
            answer = await api.post("/chats", content=raw, headers=JSON, token=token)
            assert_error(answer, 422, code)
    await assert_nothing_written(api)


async def test_unstorable_guest_name_is_422(api: Api) -> None:
    for name in UNSTORABLE:
        raw = raw_json(guest=raw_json(name=name).decode())
        answer = await api.post("/sessions", content=raw, headers=JSON)
        assert_error(answer, 422, "invalid_name")


async def test_unstorable_sso_user_is_401(api: Api) -> None:
    for user in (
        {"id": "a\u0000", "username": "x"},
        {"id": "a", "username": "x\u0000y"},
        {"id": "a", "username": "x", "avatar": "https://a.example/\u0000.png"},
        {"id": "i" * (limits.MAX_USER_ID + 1), "username": "x"},
    ):
        answer = await api.sso_session(user)
        assert_error(answer, 401, "sso_malformed_user_data")
    longest = await api.sso_session({"id": "i" * limits.MAX_USER_ID, "username": "x"})
    assert longest.status_code == 200, longest.text
    assert longest.json()["user"]["id"] == "sso:" + "i" * limits.MAX_USER_ID


# --------------------------------------------------------------------------------------------
# The whole app never answers 500 to junk
# --------------------------------------------------------------------------------------------


JUNK: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/chats", {"content": b"\x00\x01\x02", "headers": JSON}, 400, "malformed_json"),
    ("PATCH", "/chats/x", {"content": b"{}", "headers": JSON}, 422, "invalid_request"),
    ("PATCH", "/chats/" + "x" * 65, {"json": {"broadcastId": "x"}}, 422, "invalid_request"),
    ("GET", "/events?urlId=a&epoch=" + "e" * 100, {}, 422, "invalid_request"),
    ("GET", "/usage?from=zzz", {}, 403, "admin_only"),  # permission before parameters
]


async def test_junk_gets_a_precise_error(api: Api, token: str) -> None:
    for method, path, kwargs, status, code in JUNK:
        answer = await api.request(method, path, token=token, **kwargs)
        assert_error(answer, status, code)


# --------------------------------------------------------------------------------------------
# 429: rate limits
# --------------------------------------------------------------------------------------------


async def test_rate_limited_writes_get_429_with_retry_after(
    store: Any, tenant: Any, make_app_client: Any
) -> None:
    async with make_app_client(store, write_rate=0.5, write_burst=3) as client:
        limited = Api(client, tenant)
        token = await limited.guest()  # sessions take from the same bucket
        for _ in range(2):
            assert (await limited.post("/chats", json=chat_body(), token=token)).status_code == 201
        refused = await limited.post("/chats", json=chat_body(), token=token)
        assert_error(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert_error(await limited.post("/sessions", json={"guest": {"name": "x"}}), 429)
        # Reads are not limited, and the site's backend (X-API-Key) is trusted.
        assert (await limited.chats())["offset"] == 2
        by_key = await limited.post("/chats", json=chat_body(), api_key=tenant.api_secret)
        assert by_key.status_code == 201, by_key.text


# --- the server's own failures -------------------------------------------------------------------


async def test_a_server_failure_is_a_500_in_the_error_shape_with_the_usual_headers(
    database_url: str, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the ordinary way and on the write lane alike, and never with the failure's text."""

    async def failing(*_: object, **__: object) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "snapshot", failing)
    monkeypatch.setattr(store, "write", failing)
    tenant = await store.create_tenant(f"t-{new_bid()[:8]}")
    app = create_app(Settings(database_url=database_url, write_rate=0.0), store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            api = Api(client, tenant)
            token = await api.guest()
            answers = [
                await api.get("/chats", params={"urlId": "i"}),
                await api.post(
                    "/chats",
                    json={"urlId": "i", "x": 1, "y": 1, "comment": "c", "broadcastId": new_bid()},
                    token=token,
                ),
            ]
    for answer in answers:
        body = assert_error(answer, 500, "internal_error")
        assert "secret" not in body["message"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
