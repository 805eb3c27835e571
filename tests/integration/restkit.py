"""A thin REST helper for the integration tests: one tenant's API over an httpx client."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from imagechat.domain import sso
from imagechat.domain.models import Tenant

ERROR_KEYS = {"status", "code", "message"}


def new_bid() -> str:
    """A fresh broadcastId."""
    return str(uuid.uuid4())


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is `status` with exactly the Error shape (and `code`, when given)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, body
    assert body["status"] == "error", body
    assert isinstance(body["code"], str) and body["code"], body
    assert body["code"] == body["code"].lower() and " " not in body["code"], body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


def sso_payload(
    secret: str,
    user: dict[str, Any],
    *,
    timestamp: int | None = None,
    user_data: str | None = None,
) -> dict[str, Any]:
    """The `sso` object a site's backend builds for `user`, signed with `secret`."""
    encoded = user_data if user_data is not None else sso.encode_user_data(user)
    moment = int(time.time() * 1000) if timestamp is None else timestamp
    return {
        "userDataJSONBase64": encoded,
        "verificationHash": sso.sign(secret, encoded, moment),
        "timestamp": moment,
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Api:
    """REST calls on one tenant, with the credentials and headers a test names."""

    def __init__(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    @property
    def store(self) -> Any:
        return self.client.app.state.services.store  # type: ignore[attr-defined]

    def path(self, path: str) -> str:
        return f"/api/v1/{self.tenant.id}{path}"

    def on(self, tenant: Tenant) -> Api:
        """The same client, speaking for another tenant."""
        return Api(self.client, tenant)

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        api_key: str | None = None,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if api_key is not None:
            sent["X-API-Key"] = api_key
        if origin is not None:
            sent["Origin"] = origin
        return await self.client.request(method, self.path(path), headers=sent, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    # --- sessions -----------------------------------------------------------------------------

    async def guest(self, name: str = "Alice") -> str:
        answer = await self.post("/sessions", json={"guest": {"name": name}})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    async def sso_session(self, user: dict[str, Any], **options: Any) -> httpx.Response:
        payload = sso_payload(self.tenant.api_secret, user, **options)
        return await self.post("/sessions", json={"sso": payload})

    async def sso(self, user_id: str, username: str | None = None, **flags: Any) -> str:
        user = {"id": user_id, "username": username or user_id.title(), **flags}
        answer = await self.sso_session(user)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    # --- writes that must succeed -------------------------------------------------------------

    async def create_chat(
        self,
        token: str | None = None,
        *,
        url_id: str = "image-1",
        x: float = 10.0,
        y: float = 20.0,
        comment: str = "first!",
        broadcast_id: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        body = {
            "urlId": url_id,
            "x": x,
            "y": y,
            "comment": comment,
            "broadcastId": broadcast_id or new_bid(),
        }
        answer = await self.post("/chats", json=body, token=token, **kwargs)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def add_comment(
        self, token: str | None, chat_id: str, comment: str = "reply", **kwargs: Any
    ) -> dict[str, Any]:
        answer = await self.post(
            f"/chats/{chat_id}/comments",
            json={"comment": comment, "broadcastId": new_bid()},
            token=token,
            **kwargs,
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def chats(self, url_id: str = "image-1", **kwargs: Any) -> dict[str, Any]:
        answer = await self.get("/chats", params={"urlId": url_id}, **kwargs)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def events(self, url_id: str = "image-1", **params: Any) -> dict[str, Any]:
        answer = await self.get("/events", params={"urlId": url_id, **params})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


MakeApi = Callable[..., Awaitable[Api]]
