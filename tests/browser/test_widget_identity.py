"""The image's identity follows the image: a late `src`, a changed `src`, an explicit urlId."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LAZY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lazy</title>
<style>img {{ display: block; width: 600px; height: 400px; }}</style></head>
<body>
  <img id="lazy" data-src="{server}/demo/mockup.svg" alt="loaded later">
  <img id="named" alt="named by the page">
  <script src="{server}/widget/imagechat.js"></script>
  <script>
    window.lazy = ImageChat(document.getElementById("lazy"), {{
      server: "{server}", tenantId: "demo",
    }});
    window.named = ImageChat(document.getElementById("named"), {{
      server: "{server}", tenantId: "demo", urlId: "named-image",
    }});
  </script>
</body></html>
"""


def test_late_and_changed_src_rebind_the_conversations(
    pages: Any, server: Any, static_site: Any
) -> None:
    page = pages.page()
    page.goto(static_site.add("/lazy.html", LAZY_PAGE.format(server=server.base)))
    lazy = page.locator(".imagechat").nth(0)
    named = page.locator(".imagechat").nth(1)

    # No src yet: the widget waits, subscribed to nothing; the explicit urlId works at once.
    expect(lazy).to_have_attribute("data-state", "waiting")
    expect(named).to_have_attribute("data-state", "live")
    assert page.evaluate("window.lazy.urlId") == ""
    token = server.guest_token()
    server.create_chat("named-image", 50, 50, "named by the page", token=token)
    expect(named.locator("button.imagechat-marker")).to_have_count(1, timeout=10_000)

    first_src = f"{server.base}/demo/mockup.svg"
    second_src = f"{server.base}/demo/mockup.svg?v=2"
    first_id = f"{static_site.base}/lazy.html|{first_src}"
    second_id = f"{static_site.base}/lazy.html|{second_src}"
    on_first = server.create_chat(first_id, 20, 20, "about the first picture", token=token)
    on_second = server.create_chat(second_id, 70, 70, "about the second picture", token=token)

    # The lazy loader sets src: the widget binds to that image's conversations.
    page.evaluate("() => { const i = document.getElementById('lazy'); i.src = i.dataset.src; }")
    expect(lazy).to_have_attribute("data-state", "live")
    expect(lazy).to_have_attribute("data-imagechat-url-id", first_id)
    assert page.evaluate("window.lazy.urlId") == first_id
    markers = lazy.locator("button.imagechat-marker")
    expect(markers).to_have_count(1)
    expect(markers.first).to_have_attribute("data-chat-id", on_first["chat"]["id"])

    # The src changes: old markers go, the new image's come, and it is live.
    page.evaluate(f"() => {{ document.getElementById('lazy').src = {second_src!r}; }}")
    expect(lazy).to_have_attribute("data-imagechat-url-id", second_id)
    expect(markers).to_have_count(1)
    expect(markers.first).to_have_attribute("data-chat-id", on_second["chat"]["id"])
    expect(lazy).to_have_attribute("data-state", "live")
    later = server.create_chat(second_id, 30, 80, "live on the second", token=token)
    server.create_chat(first_id, 80, 20, "the first picture is not shown any more", token=token)
    expect(lazy.locator(f"[data-chat-id='{later['chat']['id']}']")).to_have_count(1, timeout=10_000)
    page.wait_for_timeout(300)
    expect(markers).to_have_count(2)

    # An explicit urlId does not follow src changes.
    page.evaluate(f"() => {{ document.getElementById('named').src = {first_src!r}; }}")
    page.wait_for_timeout(300)
    expect(named).to_have_attribute("data-imagechat-url-id", "named-image")
    expect(named.locator("button.imagechat-marker")).to_have_count(1)
    assert not any("pageerror" in line for line in pages.console), pages.console
