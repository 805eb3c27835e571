"""Async REST calls against an imagechat server, one method per route of docs/api.md."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import httpx


class ApiError(Exception):
    """An answer in the Error shape: `status`, `code` and a human `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ImageChatClient:
    """REST client for one tenant. Every write gets a fresh broadcastId unless one is given;
    the ids it made are kept in `own_broadcast_ids` so a LiveClient can flag their echoes."""

    def __init__(
        self,
        server: str,
        tenant_id: str,
        *,
        token: str | None = None,
        api_key: str | None = None,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.server = server.rstrip("/")
        self.tenant_id = tenant_id
        self.token = token
        self.api_key = api_key
        self.own_broadcast_ids: set[str] = set()
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> ImageChatClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- sessions ---------------------------------------------------------------------------

    async def guest_session(self, name: str) -> dict[str, Any]:
        """Start a guest session; its token is used for the writes that follow."""
        answer = await self._call("POST", "/sessions", json={"guest": {"name": name}})
        self.token = answer["token"]
        return answer

    async def sso_session(self, sso: dict[str, Any]) -> dict[str, Any]:
        """Start a session from a secure SSO object made by the site's backend."""
        answer = await self._call("POST", "/sessions", json={"sso": sso})
        self.token = answer["token"]
        return answer

    # --- reads ------------------------------------------------------------------------------

    async def list_chats(self, url_id: str) -> dict[str, Any]:
        return await self._call("GET", "/chats", params={"urlId": url_id})

    async def get_chat(self, chat_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/chats/{chat_id}")

    async def events(self, url_id: str, since: int, epoch: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"urlId": url_id, "since": since}
        if epoch is not None:
            params["epoch"] = epoch
        return await self._call("GET", "/events", params=params)

    async def usage(self, first: str | None = None, last: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("from", first), ("to", last)) if v is not None}
        return await self._call("GET", "/usage", params=params)

    # --- writes -----------------------------------------------------------------------------

    async def create_chat(
        self,
        url_id: str,
        x: float,
        y: float,
        comment: str,
        *,
        broadcast_id: str | None = None,
        page_url: str | None = None,
        image_src: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "urlId": url_id,
            "x": x,
            "y": y,
            "comment": comment,
            "broadcastId": self._broadcast(broadcast_id),
        }
        if page_url is not None:
            body["pageUrl"] = page_url
        if image_src is not None:
            body["imageSrc"] = image_src
        return await self._call("POST", "/chats", json=body)

    async def add_comment(
        self, chat_id: str, comment: str, *, broadcast_id: str | None = None
    ) -> dict[str, Any]:
        body = {"comment": comment, "broadcastId": self._broadcast(broadcast_id)}
        return await self._call("POST", f"/chats/{chat_id}/comments", json=body)

    async def update_chat(
        self,
        chat_id: str,
        *,
        x: float | None = None,
        y: float | None = None,
        resolved: bool | None = None,
        broadcast_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"broadcastId": self._broadcast(broadcast_id)}
        body.update(
            {k: v for k, v in (("x", x), ("y", y), ("resolved", resolved)) if v is not None}
        )
        return await self._call("PATCH", f"/chats/{chat_id}", json=body)

    async def edit_comment(
        self, comment_id: str, comment: str, *, broadcast_id: str | None = None
    ) -> dict[str, Any]:
        body = {"comment": comment, "broadcastId": self._broadcast(broadcast_id)}
        return await self._call("PATCH", f"/comments/{comment_id}", json=body)

    async def delete_comment(
        self, comment_id: str, *, broadcast_id: str | None = None
    ) -> dict[str, Any]:
        params = {"broadcastId": self._broadcast(broadcast_id)}
        return await self._call("DELETE", f"/comments/{comment_id}", params=params)

    async def delete_chat(self, chat_id: str, *, broadcast_id: str | None = None) -> dict[str, Any]:
        params = {"broadcastId": self._broadcast(broadcast_id)}
        return await self._call("DELETE", f"/chats/{chat_id}", params=params)

    # --- plumbing ---------------------------------------------------------------------------

    def _broadcast(self, given: str | None) -> str:
        broadcast_id = given or str(uuid.uuid4())
        self.own_broadcast_ids.add(broadcast_id)
        return broadcast_id

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if self.api_key is not None:
            headers["X-API-Key"] = self.api_key
        elif self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.server}/api/v1/{self.tenant_id}{path}"
        response = await self._http.request(method, url, headers=headers, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_error:
            if isinstance(data, dict) and data.get("status") == "error":
                raise ApiError(
                    response.status_code, str(data.get("code")), str(data.get("message"))
                )
            raise ApiError(response.status_code, "http_error", response.text[:200])
        if not isinstance(data, dict):
            raise ApiError(response.status_code, "bad_response", "the answer is not a JSON object")
        return data
