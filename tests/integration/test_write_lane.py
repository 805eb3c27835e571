"""The write lane (web/write_lane.py): which requests it takes past FastAPI's layers, which it
leaves to FastAPI, and that the two answer alike."""

from __future__ import annotations

from typing import Any

import pytest
from restkit import Api, assert_error, new_bid

from imagechat.domain.limits import MAX_ID_PARAMETER
from imagechat.settings import Settings
from imagechat.web import api as rest
from imagechat.web.app import create_app
from imagechat.web.write_lane import WriteLane

LANE = WriteLane(app=None, routes=rest.WRITE_LANE)  # type: ignore[arg-type]
ID = "c" * MAX_ID_PARAMETER


def _scope(method: str, path: str, query: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query.encode()}


def _taken(method: str, path: str, query: str = "") -> tuple[str, dict[str, str]] | None:
    found = LANE.match(_scope(method, path, query))
    return None if found is None else (found[0].endpoint.__name__, found[1])


def test_the_lane_takes_well_formed_writes_with_their_parameters() -> None:
    assert _taken("POST", "/api/v1/acme/chats") == ("create_chat", {"tenantId": "acme"})
    assert _taken("POST", f"/api/v1/acme/chats/{ID}/comments") == (
        "add_comment",
        {"tenantId": "acme", "chatId": ID},
    )
    assert _taken("PATCH", "/api/v1/acme/chats/c1") == (
        "update_chat",
        {"tenantId": "acme", "chatId": "c1"},
    )
    assert _taken("DELETE", "/api/v1/acme/chats/c1", "broadcastId=b1&x=2") == (
        "delete_chat",
        {"tenantId": "acme", "chatId": "c1", "broadcastId": "b1"},
    )
    assert _taken("DELETE", "/api/v1/acme/comments/m1", "broadcastId=") == (
        "delete_comment",
        {"tenantId": "acme", "commentId": "m1", "broadcastId": ""},
    )
    assert _taken("PATCH", "/api/v1/acme/comments/m1") == (
        "edit_comment",
        {"tenantId": "acme", "commentId": "m1"},
    )
    assert _taken("POST", "/api/v1/acme/comments/m1/flags") == (
        "flag_comment",
        {"tenantId": "acme", "commentId": "m1"},
    )
    # A tenant id has no length limit of its own: the route decides (404 for an unknown one).
    assert _taken("POST", f"/api/v1/{'t' * 200}/chats") is not None


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/api/v1/acme/chats", ""),  # reads are not writes
        ("PUT", "/api/v1/acme/chats", ""),
        ("POST", "/api/v1/acme/chats/", ""),  # FastAPI's trailing-slash redirect
        ("POST", "/api/v1/acme/sessions", ""),
        ("PATCH", f"/api/v1/acme/chats/{ID}c", ""),  # an id FastAPI refuses (422)
        ("DELETE", "/api/v1/acme/chats/c1", ""),  # broadcastId missing (422)
        ("DELETE", "/api/v1/acme/chats/c1", "broadcastId=a&broadcastId=b"),
        ("DELETE", "/api/v1/acme/chats/c1", "broadcastId=" + "b" * 65),
        ("POST", "/api/v1/acme/chats/c1/comments/extra", ""),
        ("POST", "/api/v2/acme/chats", ""),
    ],
)
def test_the_lane_leaves_everything_else_to_fastapi(method: str, path: str, query: str) -> None:
    assert LANE.match(_scope(method, path, query)) is None


def test_every_lane_route_is_the_documented_route_with_the_same_parameters() -> None:
    """The lane and FastAPI serve one table: same method, path, endpoint and parameters."""
    document = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
    for route in rest.WRITE_LANE:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"].startswith(route.endpoint.__name__ + "_"), route
        parameters = {(p["name"], p["in"]) for p in operation.get("parameters", ())}
        expected = {(name, "path") for name in route.pattern.groupindex}
        expected |= {(name, "query") for name in route.query}
        assert parameters == expected, route
        for parameter in operation.get("parameters", ()):
            assert parameter["required"], (route, parameter)
            if parameter["name"] != "tenantId":
                assert parameter["schema"]["maxLength"] == MAX_ID_PARAMETER, (route, parameter)


async def test_failures_on_the_lane_answer_as_fastapi_does(api: Api) -> None:
    token = await api.guest()
    # On the lane: the domain's errors, bodies that are not JSON, fields that are wrong.
    assert_error(await api.post("/chats", json={"urlId": "i", "x": 1, "y": 1}), 401)
    missing = {"comment": "hi", "broadcastId": new_bid()}
    assert_error(await api.post("/chats/nope/comments", json=missing, token=token), 404)
    as_json = {"Content-Type": "application/json"}
    answer = await api.post("/chats", content=b"{", headers=as_json, token=token)
    assert_error(answer, 400, "malformed_json")
    wrong = {"urlId": "i", "x": "left", "y": 1, "comment": "c", "broadcastId": new_bid()}
    failed = assert_error(await api.post("/chats", json=wrong, token=token), 422)
    assert failed["code"] == "invalid_request" and "x" in failed["message"]
    # Left to FastAPI: its own refusals of parameters, in the same error shape.
    assert_error(await api.delete("/chats/c1", token=token), 422, "invalid_request")
    long_id = f"/chats/{ID}c"
    answer = await api.patch(long_id, json={"broadcastId": new_bid()}, token=token)
    assert_error(answer, 422, "invalid_request")
    # A write on the lane succeeds with the headers every answer carries, CORS included.
    made = await api.create_chat(token)
    gone = await api.delete(
        f"/chats/{made['chat']['id']}?broadcastId={new_bid()}",
        token=token,
        origin="https://site.example",
    )
    assert gone.status_code == 200, gone.text
    assert gone.headers["x-content-type-options"] == "nosniff"
    assert gone.headers["access-control-allow-origin"] == "*"
    assert "Origin" in gone.headers["vary"]
