"""Integration fixtures: the REST API of a fresh tenant over the in-process ASGI app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from restkit import Api, MakeApi

from imagechat.domain.models import Tenant


@pytest.fixture()
def make_api(
    app_client: httpx.AsyncClient, make_tenant: Callable[..., Awaitable[Tenant]]
) -> MakeApi:
    """`await make_api(private=True, origins=[...])`: a new tenant and its API."""

    async def build(**options: Any) -> Api:
        return Api(app_client, await make_tenant(**options))

    return build


@pytest.fixture()
async def api(make_api: MakeApi) -> Api:
    """The API of a public tenant with no origin list."""
    return await make_api()
