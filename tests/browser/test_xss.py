"""Stored script payloads are inert: in the widget (live, and after a reload), in every page
the server renders, under each page's Content-Security-Policy, which the pages themselves
never trip."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    '"><svg onload="window.__pwned = \'svg\'"></svg>',
    "<a href=\"javascript:window.__pwned = 'link'\">click me</a>",
    "javascript:window.__pwned = 'scheme'",
    "<iframe srcdoc=\"<script>parent.__pwned = 'iframe'</script>\"></iframe>",
    "{{constructor.constructor(\"window.__pwned = 'template'\")()}}",
    "<style>*{display:none}</style>",
]
NAME = "<img src=x onerror=\"window.__pwned = 'name'\">"

# Records what a page's policy blocked: a page of ours that works must block nothing, and an
# injected inline script would show up here even though the policy stopped it.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _sso(secret: str, user: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(user).encode()).decode()
    timestamp = int(time.time() * 1000)
    digest = hmac.new(secret.encode(), f"{timestamp}{data}".encode(), hashlib.sha256).hexdigest()
    return {"userDataJSONBase64": data, "verificationHash": digest, "timestamp": timestamp}


def _sso_token(server: Any) -> str:
    import httpx

    user = {
        "id": "x<s>",
        "username": "<script>window.__pwned = 'sso'</script>",
        "avatar": "https://a.example/a.png\" onerror=\"window.__pwned = 'avatar'",
    }
    answer = httpx.post(
        server.api("/sessions"), json={"sso": _sso(server.demo_api_secret(), user)}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _assert_inert(page: Page, dialogs: list[str]) -> None:
    page.wait_for_timeout(300)  # an onerror or onload handler would have run by now
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert page.locator(".imagechat img[src='x'], .imagechat svg[onload], iframe").count() == 0
    assert page.locator(".imagechat a[href^='javascript']").count() == 0
    assert page.evaluate("() => window.__violations") == []


def test_stored_payloads_are_text_in_the_widget(pages: Any, server: Any, ui: Any) -> None:
    context = pages.context()
    context.add_init_script(WATCH)
    dialogs: list[str] = []
    page = pages.page(context)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server.base + "/")
    ui.wait_live(page)
    url_id = ui.url_id_of(page)

    guest = server.guest_token(NAME)
    sso_user = _sso_token(server)
    made = []
    for i, payload in enumerate(PAYLOADS):
        token = guest if i % 2 else sso_user
        made.append(server.create_chat(url_id, 10 + i * 10, 30, payload, token=token))
    server.add_comment(made[0]["chat"]["id"], PAYLOADS[1], token=guest)
    expect(page.locator("button.imagechat-marker")).to_have_count(len(PAYLOADS), timeout=5000)

    def read_every_thread() -> None:
        for i, chat in enumerate(made):
            page.locator(f"button.imagechat-marker[data-chat-id='{chat['chat']['id']}']").click()
            body = page.locator(".imagechat-thread .imagechat-comment-body").first
            expect(body).to_have_text(PAYLOADS[i])
            author = page.locator(".imagechat-thread .imagechat-comment-author").first
            expect(author).to_have_text(
                NAME if i % 2 else "<script>window.__pwned = 'sso'</script>"
            )
            page.keyboard.press("Escape")
        _assert_inert(page, dialogs)

    read_every_thread()  # as they arrived live
    page.reload()
    ui.wait_live(page)
    read_every_thread()  # from a fresh snapshot


@pytest.mark.parametrize("path", ["/", "/docs", "/demo/index.html", "/admin/login"])
def test_server_pages_keep_their_policy_and_load_only_from_the_server(
    pages: Any, server: Any, path: str
) -> None:
    context = pages.context()
    context.add_init_script(WATCH)
    requested: list[str] = []
    page = pages.page(context)
    page.on("request", lambda request: requested.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    server.create_chat("elsewhere", 5, 5, PAYLOADS[0])
    answer = page.goto(server.base + path)
    assert answer is not None and answer.ok
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    if path == "/docs":
        # Swagger UI really ran (its scripts came from this server) and shows every route.
        expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        assert page.locator(".opblock").count() >= 10
    else:
        page.wait_for_load_state("networkidle")
    foreign = [url for url in requested if not url.startswith((server.base, "data:"))]
    assert foreign == [], foreign
    _assert_inert(page, dialogs)


def test_a_page_without_hashes_cannot_run_inline_script(pages: Any, server: Any) -> None:
    """The policy is not decoration: an inline script the server did not ship is blocked."""
    context = pages.context()
    context.add_init_script(WATCH)
    page = pages.page(context)
    page.goto(server.base + "/docs")
    page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = "window.__pwned = 'inline'";
            document.body.appendChild(s);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__pwned") is None
    assert any(v.startswith("script-src") for v in page.evaluate("() => window.__violations"))
