"""Origins, CORS and headers: CORS names only allowed origins where a tenant keeps a list,
every HTML page carries a Content-Security-Policy, every answer `nosniff`, and /docs loads
nothing from anywhere but this server."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import httpx

from imagechat.web.headers import shipped_page_policy
from tests.live.server import LiveServer
from tests.security.conftest import new_tenant

LISTED = "https://shop.example"
STRANGER = "https://evil.example"


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_cors_follows_each_tenants_allowlist(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    listed = await new_tenant(server, origins=[LISTED])
    open_ = await new_tenant(server)
    on_listed, on_open = f"/api/v1/{listed.id}", f"/api/v1/{open_.id}"

    answer = await http.options(f"{on_listed}/chats", headers=preflight(LISTED))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == LISTED
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert "origin" in answer.headers["vary"].lower()

    refused = await http.options(f"{on_listed}/chats", headers=preflight(STRANGER))
    assert refused.status_code == 403 and refused.json()["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers

    read = await http.get(f"{on_listed}/chats", params={"urlId": "i"}, headers={"Origin": LISTED})
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == LISTED
    assert "retry-after" in read.headers["access-control-expose-headers"].lower()
    foreign = await http.get(
        f"{on_listed}/chats", params={"urlId": "i"}, headers={"Origin": STRANGER}
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in foreign.headers
    # No Origin at all (a server): no CORS headers needed, but caches learn it matters.
    plain = await http.get(f"{on_listed}/chats", params={"urlId": "i"})
    assert plain.status_code == 200 and "origin" in plain.headers["vary"].lower()

    # Without a list, and outside the tenant routes, any origin is told `*`.
    for path in (f"{on_open}/chats?urlId=i", "/widget/imagechat.js", "/openapi.json"):
        answer = await http.get(path, headers={"Origin": STRANGER})
        assert answer.status_code == 200, path
        assert answer.headers["access-control-allow-origin"] == "*", path
    answer = await http.options(f"{on_open}/chats", headers=preflight(STRANGER))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    unknown = await http.get("/api/v1/no-such/chats?urlId=i", headers={"Origin": STRANGER})
    assert unknown.status_code == 404 and unknown.headers["access-control-allow-origin"] == "*"


async def test_error_answers_are_readable_by_allowed_browsers(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    """A 413 from the body guard and a 401 carry CORS headers too, or a page can't see why."""
    listed = await new_tenant(server, origins=[LISTED])
    base = f"/api/v1/{listed.id}"
    too_big = await http.post(
        f"{base}/chats",
        content=b"x" * 70_000,
        headers={"Origin": LISTED, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.headers["access-control-allow-origin"] == LISTED
    body = {"urlId": "i", "x": 1, "y": 1, "comment": "c", "broadcastId": str(uuid.uuid4())}
    anonymous = await http.post(f"{base}/chats", json=body, headers={"Origin": LISTED})
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == LISTED


async def test_every_answer_is_nosniff(server: LiveServer, http: httpx.AsyncClient) -> None:
    tenant = await new_tenant(server)
    for path in (
        "/",
        "/healthz",
        "/openapi.json",
        "/docs",
        "/docs/init.js",
        "/docs/assets/swagger-ui-bundle.js",
        "/widget/imagechat.js",
        "/widget/imagechat.css",
        f"/api/v1/{tenant.id}/chats?urlId=i",
        f"/api/v1/{tenant.id}/chats/nope",
        "/no/such/page",
    ):
        answer = await http.get(path)
        assert answer.headers.get("x-content-type-options") == "nosniff", path


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


async def test_every_html_page_has_a_content_security_policy(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    pages = ["/", "/docs", "/demo/index.html", "/admin/login"]
    for path in pages:
        answer = await http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html"), path
        policy = _directives(answer.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"], path
        scripts = policy.get("script-src", policy["default-src"])
        assert scripts in (["'none'"], ["'self'"]) or scripts[0] == "'self'", path
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert answer.headers["x-frame-options"] == "DENY", path


async def test_the_console_allows_its_own_style_block_and_nothing_inline(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    answer = await http.get("/admin/login")
    assert answer.status_code == 200
    styles = _directives(answer.headers["content-security-policy"])["style-src"]
    assert "'unsafe-inline'" not in styles
    blocks = re.findall(r"<style>(.*?)</style>", answer.text, re.S)
    assert len(blocks) == 1
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    assert styles == [f"'sha256-{digest}'"]
    assert " style=" not in answer.text


def test_shipped_pages_allow_exactly_their_own_inline_blocks() -> None:
    html = "<style>a{}</style><script src='/x.js'></script><script>go()</script>"
    policy = _directives(shipped_page_policy(html))
    assert len([s for s in policy["script-src"] if s.startswith("'sha256-")]) == 1
    assert len([s for s in policy["style-src"] if s.startswith("'sha256-")]) == 1
    assert (
        _directives(shipped_page_policy(html + "<script>evil()</script>"))["script-src"]
        != (policy["script-src"])
    )


async def test_docs_load_their_assets_from_this_server(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    page = (await http.get("/docs")).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        asset = await http.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    script = (await http.get("/docs/init.js")).text
    assert "/openapi.json" in script and "http" not in script
    assert (await http.get("/redoc")).status_code == 404
