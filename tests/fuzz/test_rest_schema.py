"""schemathesis against the app's own OpenAPI document: every operation, anonymous, with a
guest session and as admin (the API key), on a real server over loopback. Every answer must
be documented (status, content type, schema) and none may be a 5xx.

Bounded for CI: FUZZ_EXAMPLES cases per operation, each sent three ways.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from imagechat.settings import Settings
from imagechat.web.app import create_app
from tests.fuzz.server_thread import ThreadServer

FUZZ_EXAMPLES = int(os.environ.get("IMAGECHAT_FUZZ_EXAMPLES", "50"))
TENANT = "fuzz"
SECRET = "fuzz-secret-" + "x" * 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


class Target:
    """The server under test, and real ids and credentials for the cases to use."""

    def __init__(self, server: ThreadServer) -> None:
        self.server = server
        self.random = random.Random(1234)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            guest = http.post(f"/api/v1/{TENANT}/sessions", json={"guest": {"name": "Fuzz"}})
            self.token = guest.json()["token"]
            made = http.post(
                f"/api/v1/{TENANT}/chats",
                json={
                    "urlId": "img",
                    "x": 1,
                    "y": 1,
                    "comment": "c",
                    "broadcastId": str(uuid.uuid4()),
                },
                headers={"Authorization": f"Bearer {self.token}"},
            ).json()
        self.chat_id = made["chat"]["id"]
        self.comment_id = made["comment"]["id"]

    def credentials(self) -> list[dict[str, str]]:
        return [{}, {"Authorization": f"Bearer {self.token}"}, {"X-API-Key": SECRET}]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    database = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    server = ThreadServer(
        f"sqlite+aiosqlite:///{database}", write_rate=0.0, usage_flush_seconds=3600
    )
    server.start()
    try:
        assert server.store is not None
        server.run(server.store.create_tenant(TENANT, api_secret=SECRET))
        yield Target(server)
    finally:
        server.stop()


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, target: Target) -> None:
    params = case.path_parameters or {}
    if "tenantId" in params and target.random.random() < 0.8:
        params["tenantId"] = TENANT  # mostly a real tenant, so requests get past the lookup
    if "chatId" in params and target.random.random() < 0.5:
        params["chatId"] = target.chat_id
    if "commentId" in params and target.random.random() < 0.5:
        params["commentId"] = target.comment_id
    for credentials in target.credentials():
        case.call_and_validate(base_url=target.server.url, headers=credentials, checks=CHECKS)
