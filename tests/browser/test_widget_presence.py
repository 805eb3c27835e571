"""'N viewing' from the server's presence, never over a notice, hidden while offline; the polite
live region announces what others do."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_presence_notices_and_announcements(pages: Any, server: Any, ui: Any) -> None:
    context_a = pages.context()
    page_a = pages.open_demo(context_a)
    presence = page_a.locator(".imagechat-presence")
    expect(presence).to_be_hidden()  # alone
    page_b = pages.open_demo()
    expect(presence).to_be_visible(timeout=10_000)
    expect(presence).to_have_text("2 viewing")

    # B starts a conversation and replies: A's screen reader hears both, politely.
    live = page_a.locator(".imagechat-live")
    expect(live).to_have_attribute("aria-live", "polite")
    chat_id = ui.create_marker(page_b, 0.4, 0.4, "hello from B", name="Bob")
    expect(live).to_have_text("New conversation from Bob: hello from B", timeout=10_000)
    page_b.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']").click()
    reply = page_b.locator(".imagechat-thread .imagechat-reply")
    reply.locator("textarea").fill("and a reply")
    reply.locator("button[type=submit]").click()
    expect(live).to_have_text("New comment from Bob: and a reply", timeout=10_000)

    # A reads the thread; B deletes it: A gets a notice, and the pill never covers it.
    page_a.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']").click()
    expect(page_a.locator(".imagechat-thread")).to_be_visible()
    delete = page_b.locator(".imagechat-thread .imagechat-delete-chat")
    delete.click()
    delete.click()
    notice = page_a.locator(".imagechat-notice")
    expect(notice).to_be_visible(timeout=10_000)
    expect(notice).to_contain_text("This conversation was deleted.")
    expect(presence).to_be_visible()
    notice_box, presence_box = notice.bounding_box(), presence.bounding_box()
    assert notice_box and presence_box and not _overlap(notice_box, presence_box)
    notice.locator(".imagechat-dismiss").click()  # fails if anything covered it
    expect(notice).to_be_hidden()

    # Offline: no "viewing" count (it would be stale); back online it returns.
    context_a.set_offline(True)
    expect(page_a.locator(".imagechat-offline")).to_be_visible(timeout=10_000)
    expect(presence).to_be_hidden()
    context_a.set_offline(False)
    ui.wait_live(page_a)
    # The count comes back with the server's next presence message (a change, or the one that
    # follows a subscribe); make one happen.
    page_c = pages.open_demo()
    expect(presence).to_be_visible(timeout=10_000)
    expect(page_c.locator(".imagechat")).to_have_attribute("data-state", "live")
