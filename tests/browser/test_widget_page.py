"""Widget behaviour within one page: safe rendering, layout, one socket, keyboard use."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def test_comment_markup_is_shown_as_text(pages: Any, server: Any, ui: Any) -> None:
    dialogs: list[str] = []
    page_a = pages.open_demo()
    page_b = pages.open_demo()
    for page in (page_a, page_b):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # Through the widget (A), live to B, and via REST + reload (fresh GET) on B.
    chat_id = ui.create_marker(page_a, 0.5, 0.5, XSS, name=XSS)
    server.create_chat(ui.url_id_of(page_a), 10, 90, XSS)
    expect(page_b.locator("button.imagechat-marker")).to_have_count(2, timeout=2000)
    for page in (page_a, page_b):
        page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']").click()
        body = page.locator(".imagechat-thread .imagechat-comment-body").first
        expect(body).to_have_text(XSS)
        expect(page.locator(".imagechat-thread .imagechat-comment-author").first).to_have_text(XSS)
        assert page.locator(".imagechat-thread img[src='x']").count() == 0
        assert page.locator(".imagechat img[src='x']").count() == 0
    expect(page_b.locator(".imagechat-live")).to_contain_text(XSS)

    page_b.reload()
    ui.wait_live(page_b)
    for marker in page_b.locator("button.imagechat-marker").all():
        marker.click()
        expect(page_b.locator(".imagechat-thread .imagechat-comment-body").first).to_have_text(XSS)
        page_b.keyboard.press("Escape")
    assert page_b.locator("img[src='x']").count() == 0
    page_b.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []


def _marker_geometry(page: Page) -> list[dict[str, float]]:
    """For each marker: its centre and size relative to the image's box, in pixels."""
    result: list[dict[str, float]] = page.evaluate(
        """() => {
            const img = document.querySelector('#demo-image').getBoundingClientRect();
            return [...document.querySelectorAll('button.imagechat-marker')].map((m) => {
              const r = m.getBoundingClientRect();
              return {
                x: parseFloat(m.style.left), y: parseFloat(m.style.top),
                cx: r.left + r.width / 2 - img.left, cy: r.top + r.height / 2 - img.top,
                side: r.width, height: r.height, imgW: img.width, imgH: img.height,
              };
            });
        }"""
    )
    return result


def _assert_on_spot(
    geometry: list[dict[str, float]], box_w: float, box_h: float, dx: float = 0, dy: float = 0
) -> None:
    for m in geometry:
        assert abs(m["cx"] - (dx + m["x"] / 100 * box_w)) <= 1, m
        assert abs(m["cy"] - (dy + m["y"] / 100 * box_h)) <= 1, m
        assert abs(m["side"] - 0.05 * box_w) <= 1, m  # chatSquarePercentage 5 of the drawn width
        assert abs(m["height"] - m["side"]) <= 0.5, m


def test_markers_follow_image_resizes(pages: Any, server: Any, ui: Any) -> None:
    page = pages.open_demo()
    url_id = ui.url_id_of(page)
    spots = [(10, 15), (50, 50), (90, 85), (33.3, 66.6)]
    token = server.guest_token()
    for x, y in spots:
        server.create_chat(url_id, x, y, f"spot {x},{y}", token=token)
    expect(page.locator("button.imagechat-marker")).to_have_count(len(spots), timeout=2000)

    geometry = _marker_geometry(page)
    _assert_on_spot(geometry, geometry[0]["imgW"], geometry[0]["imgH"])

    for width in ("600px", "937px", "40%"):
        page.eval_on_selector("#demo-image", "(img, w) => { img.style.width = w; }", width)
        page.wait_for_timeout(150)  # one or two frames for the ResizeObserver
        geometry = _marker_geometry(page)
        assert abs(geometry[0]["imgW"] - page.locator("#demo-image").bounding_box()["width"]) < 0.01
        _assert_on_spot(geometry, geometry[0]["imgW"], geometry[0]["imgH"])

    # Letterboxed by object-fit: contain, markers sit on the drawn picture, not on its frame.
    page.eval_on_selector(
        "#demo-image",
        "(img) => Object.assign(img.style,"
        " { width: '900px', height: '300px', objectFit: 'contain' })",
    )
    page.wait_for_timeout(150)
    geometry = _marker_geometry(page)
    drawn_h = 300.0
    drawn_w = 1200 / 800 * drawn_h  # the SVG is 1200x800
    _assert_on_spot(geometry, drawn_w, drawn_h, dx=(900 - drawn_w) / 2)

    # Content added above the image moves it; the markers move along.
    page.evaluate(
        "() => { const p = document.createElement('p'); p.style.height = '120px';"
        " p.textContent = 'x'; document.querySelector('main').prepend(p); }"
    )
    page.wait_for_timeout(150)
    geometry = _marker_geometry(page)
    _assert_on_spot(geometry, drawn_w, drawn_h, dx=(900 - drawn_w) / 2)


TWO_WIDGETS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>two widgets</title>
<style>img {{ display: block; width: 500px; height: auto; margin: 16px; }}</style></head>
<body>
  <img id="one" src="{server}/demo/mockup.svg" width="1200" height="800" alt="first">
  <div id="two-box">
    <img src="{server}/demo/mockup.svg" width="1200" height="800" alt="second">
  </div>
  <script type="module">
    import ImageChat from "{server}/widget/imagechat.mjs";
    const server = "{server}";
    window.counts = {{}};
    window.first = ImageChat(document.getElementById("one"), {{
      server, tenantId: "demo", urlId: "{a}",
      onCommentCountUpdated: (n) => {{ window.counts.a = n; }},
    }});
    window.second = ImageChat(document.getElementById("two-box"), {{
      server, tenantId: "demo", urlId: "{b}", locale: "it",
      onCommentCountUpdated: (n) => {{ window.counts.b = n; }},
    }});
  </script>
</body></html>
"""


def test_two_widgets_share_one_websocket(pages: Any, server: Any, static_site: Any) -> None:
    # The page lives on another origin than the imagechat server, as on a customer's site, and
    # loads the widget as an ES module.
    page = pages.page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    html = TWO_WIDGETS.format(server=server.base, a="two-widgets-a", b="two-widgets-b")
    page.goto(static_site.add("/two-widgets.html", html))
    roots = page.locator(".imagechat")
    expect(roots).to_have_count(2)
    for index in range(2):
        expect(roots.nth(index)).to_have_attribute("data-state", "live")
    # The module entry injected the stylesheet by itself, once.
    expect(page.locator("link[data-imagechat-css]")).to_have_count(1)

    token = server.guest_token()
    a = server.create_chat("two-widgets-a", 30, 30, "on the first image", token=token)
    b = server.create_chat("two-widgets-b", 60, 60, "on the second image", token=token)
    server.create_chat("two-widgets-b", 70, 20, "second again", token=token)
    expect(roots.nth(0).locator("button.imagechat-marker")).to_have_count(1, timeout=2000)
    expect(roots.nth(1).locator("button.imagechat-marker")).to_have_count(2, timeout=2000)
    expect(roots.nth(0).locator(f"[data-chat-id='{a['chat']['id']}']")).to_have_count(1)
    expect(roots.nth(1).locator(f"[data-chat-id='{b['chat']['id']}']")).to_have_count(1)
    page.wait_for_function("() => window.counts.a === 1 && window.counts.b === 2")
    # Locales are per widget: the second one speaks Italian.
    assert "Conversazione" in (
        roots.nth(1).locator("button.imagechat-marker").first.get_attribute("aria-label") or ""
    )
    assert "Conversation" in (
        roots.nth(0).locator("button.imagechat-marker").first.get_attribute("aria-label") or ""
    )

    assert sockets == [f"ws://127.0.0.1:{server.port}/ws"], sockets

    # Destroying one widget keeps the shared socket working for the other.
    page.evaluate("() => window.first.destroy()")
    expect(roots).to_have_count(1)
    server.create_chat("two-widgets-b", 10, 10, "still live", token=token)
    expect(page.locator("button.imagechat-marker")).to_have_count(3, timeout=2000)
    assert len(sockets) == 1


def test_keyboard_opens_and_closes_a_thread(pages: Any, server: Any, ui: Any) -> None:
    page = pages.open_demo()
    created = server.create_chat(ui.url_id_of(page), 40, 40, "keyboard users welcome")
    chat_id = created["chat"]["id"]
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker).to_have_count(1, timeout=2000)
    expect(marker).to_have_attribute("aria-label", "Conversation by Carol, 1 comment")

    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.classList.contains('imagechat-marker')"):
            break
    assert page.evaluate("() => document.activeElement?.dataset.chatId") == chat_id

    page.keyboard.press("Enter")
    thread = page.locator(".imagechat-thread")
    expect(thread).to_be_visible()
    expect(thread).to_have_attribute("role", "dialog")
    assert (thread.get_attribute("aria-label") or "").startswith("Conversation started by Carol")
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["keyboard users welcome"])
    expect(marker).to_have_attribute("aria-expanded", "true")
    assert page.evaluate(
        "() => document.querySelector('.imagechat-thread').contains(document.activeElement)"
    )

    page.keyboard.press("Escape")
    expect(thread).to_be_hidden()
    assert page.evaluate("() => document.activeElement?.dataset.chatId") == chat_id
    expect(marker).to_have_attribute("aria-expanded", "false")


SSO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sso</title></head>
<body>
  <img id="pic" src="{server}/demo/mockup.svg" width="600" height="400" alt="mockup">
  <script src="{server}/widget/imagechat.js"></script>
  <script>
    ImageChat(document.getElementById("pic"), {{
      server: "{server}", tenantId: "demo", urlId: "sso-page", sso: {sso},
    }});
  </script>
</body></html>
"""


def _sso(secret: str, user: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(user).encode()).decode()
    timestamp = int(time.time() * 1000)
    digest = hmac.new(secret.encode(), f"{timestamp}{data}".encode(), hashlib.sha256).hexdigest()
    return {"userDataJSONBase64": data, "verificationHash": digest, "timestamp": timestamp}


def test_sso_moderator_deletes_a_guests_conversation(
    pages: Any, server: Any, static_site: Any
) -> None:
    moderator = {"id": "mod-1", "username": "Mona", "isModerator": True}
    sso = _sso(server.demo_api_secret(), moderator)
    page = pages.page()
    page.goto(
        static_site.add("/sso.html", SSO_PAGE.format(server=server.base, sso=json.dumps(sso)))
    )
    expect(page.locator(".imagechat")).to_have_attribute("data-state", "live")
    guests = server.create_chat("sso-page", 50, 50, "a guest wrote this")
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{guests['chat']['id']}']")
    expect(marker).to_have_count(1, timeout=2000)

    # Signed in through SSO, the moderator is never asked for a name, and may reply...
    marker.click()
    thread = page.locator(".imagechat-thread")
    reply = thread.locator(".imagechat-reply")
    expect(reply.locator("input[name=name]")).to_have_count(0)
    reply.locator("textarea").fill("noted by the moderator")
    reply.locator("button[type=submit]").click()
    expect(thread.locator(".imagechat-comment-author")).to_have_text(["Carol", "Mona"])
    # ...and delete someone else's conversation.
    delete = thread.locator(".imagechat-delete-chat")
    delete.click()
    delete.click()
    expect(marker).to_have_count(0)
    expect(thread).to_be_hidden()
    assert server.chats("sso-page") == []


BOTH_FORMS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>both forms</title></head>
<body>
  <img id="one" src="{server}/demo/mockup.svg" width="600" height="400" alt="one">
  <img id="two" src="{server}/demo/mockup.svg?two" width="600" height="400" alt="two">
  <script src="{server}/widget/imagechat.js"></script>
  <script type="module">
    import ImageChat, {{ ImageChat as named }} from "{server}/widget/imagechat.mjs";
    window.same = ImageChat === window.ImageChat && named === ImageChat;
    ImageChat("#one", {{ server: "{server}", tenantId: "demo" }});
    window.ImageChat("#two", {{ server: "{server}", tenantId: "demo" }});
  </script>
</body></html>
"""


def test_classic_script_and_module_on_one_page_are_one_widget(
    pages: Any, server: Any, static_site: Any
) -> None:
    page = pages.page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(static_site.add("/both.html", BOTH_FORMS.format(server=server.base)))
    roots = page.locator(".imagechat")
    expect(roots).to_have_count(2)
    for index in range(2):
        expect(roots.nth(index)).to_have_attribute("data-state", "live")
    assert page.evaluate("window.same") is True
    assert page.evaluate("ImageChat.version") == "2"
    expect(page.locator("link[data-imagechat-css]")).to_have_count(1)
    assert len(sockets) == 1, sockets
