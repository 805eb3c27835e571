"""Markers people can read: opaque pins, initials, counts, resolved look, merging, deep links."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import httpx
import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Relative luminance and contrast ratio (WCAG 2), computed in the page from computed styles.
CONTRAST = """(el) => {
  const parse = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const s = getComputedStyle(el);
  const bg = parse(s.backgroundColor), fg = parse(s.color);
  const [a, b] = [lum(bg), lum(fg)].sort((x, y) => y - x);
  const alpha = bg.length > 3 ? bg[3] : 1;
  return { ratio: (a + 0.05) / (b + 0.05), alpha, bg: s.backgroundColor };
}"""


def _resolve(server: Any, chat_id: str, token: str) -> None:
    answer = httpx.patch(
        server.api(f"/chats/{chat_id}"),
        json={"resolved": True, "broadcastId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5.0,
    )
    assert answer.status_code == 200, answer.text


def test_markers_are_readable_and_resolved_ones_differ(pages: Any, server: Any, ui: Any) -> None:
    page = pages.open_demo()
    url_id = ui.url_id_of(page)
    ada, bob = server.guest_token("Ada Lovelace"), server.guest_token("Bob")
    open_chat = server.create_chat(url_id, 20, 30, "first", token=ada)["chat"]["id"]
    server.add_comment(open_chat, "second", token=bob)
    done = server.create_chat(url_id, 70, 60, "done", token=bob)["chat"]["id"]
    _resolve(server, done, bob)
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{open_chat}']")
    resolved = page.locator(f"button.imagechat-marker[data-chat-id='{done}']")
    expect(resolved).to_have_class("imagechat-marker imagechat-marker--resolved", timeout=10_000)
    expect(marker.locator(".imagechat-marker-count")).to_have_text("2")

    # An opaque pin with the starter's initials; a count that stands out.
    expect(marker.locator(".imagechat-marker-face")).to_have_text("AL")
    expect(resolved.locator(".imagechat-marker-face")).to_have_text("B")
    pin = marker.evaluate(CONTRAST)
    assert pin["alpha"] == 1 and pin["ratio"] >= 4.5, pin
    for count in (marker, resolved):
        badge = count.locator(".imagechat-marker-count").evaluate(CONTRAST)
        assert badge["alpha"] == 1 and badge["ratio"] >= 4.5, badge
    # The resolved one looks different (not merely fainter), and guests get their own colours.
    resolved_pin = resolved.evaluate(CONTRAST)
    assert resolved_pin["alpha"] == 1 and resolved_pin["ratio"] >= 4.5, resolved_pin
    assert resolved_pin["bg"] != pin["bg"]
    assert resolved.evaluate("(b) => getComputedStyle(b).opacity") == "1"
    colours = page.evaluate(
        "() => [...document.querySelectorAll('button.imagechat-marker')]"
        ".map((b) => b.style.getPropertyValue('--imagechat-pin-colour'))"
    )
    assert len(set(colours)) == 2, colours
    expect(resolved).to_have_attribute("aria-label", "Conversation by Bob, 1 comment, resolved")

    # "Hide resolved" hides them, and says so.
    toggle = page.locator(".imagechat-toggle-resolved")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(resolved).to_be_hidden()
    expect(marker).to_be_visible()
    toggle.click()
    expect(resolved).to_be_visible()

    # Relative times in the thread, the exact one on hover.
    marker.click()
    time_node = page.locator(".imagechat-thread .imagechat-comment-time").first
    expect(time_node).to_have_text("now")
    assert time_node.get_attribute("title")


def test_close_markers_merge_into_a_count_that_opens_a_list(
    pages: Any, server: Any, ui: Any
) -> None:
    page = pages.open_demo()
    url_id = ui.url_id_of(page)
    token = server.guest_token("Carol")
    ids = [
        server.create_chat(url_id, x, y, f"crowded {i}", token=token)["chat"]["id"]
        for i, (x, y) in enumerate([(40, 40), (41, 40.5), (40.5, 41.5)])
    ]
    alone = server.create_chat(url_id, 80, 80, "alone", token=token)["chat"]["id"]
    cluster = page.locator(".imagechat-cluster")
    expect(cluster).to_have_count(1, timeout=10_000)
    expect(cluster).to_have_text("3")
    expect(cluster).to_have_attribute("aria-label", "3 conversations here")
    for chat_id in ids:
        expect(page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")).to_be_hidden()
    expect(page.locator(f"button.imagechat-marker[data-chat-id='{alone}']")).to_be_visible()

    cluster.click()
    items = page.locator(".imagechat-cluster-list .imagechat-cluster-item")
    expect(items).to_have_count(3)
    items.nth(1).click()
    thread = page.locator(".imagechat-thread")
    expect(thread).to_be_visible()
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["crowded 1"])
    page.keyboard.press("Escape")
    expect(thread).to_be_hidden()

    # By keyboard: Enter on the badge lists them (focus on the first), Enter opens one, Escape
    # comes back to the badge standing for it.
    cluster.focus()
    page.keyboard.press("Enter")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")  # wraps round to the last
    expect(items.last).to_be_focused()
    page.keyboard.press("Escape")  # back to the badge, list closed
    expect(page.locator(".imagechat-cluster-list")).to_be_hidden()
    expect(page.locator(".imagechat-cluster:focus")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(items.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["crowded 0"])
    page.keyboard.press("Escape")
    expect(page.locator(".imagechat-cluster:focus")).to_have_count(1)

    # Smaller markers no longer overlap: no badge any more.
    page.evaluate("() => window.demoChat.update({ chatSquarePercentage: 0.5 })")
    expect(cluster).to_have_count(0)
    expect(page.locator("button.imagechat-marker:visible")).to_have_count(4)


def test_deep_link_opens_the_thread_and_copy_link_gives_it(
    pages: Any, server: Any, ui: Any
) -> None:
    first = pages.open_demo()
    url_id = ui.url_id_of(first)
    created = server.create_chat(url_id, 60, 40, "look here")
    chat_id = created["chat"]["id"]
    marker = first.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    marker.click()
    copy = first.locator(".imagechat-thread .imagechat-copy-link")
    expect(copy).to_have_text("Copy link")
    href = copy.get_attribute("href")
    assert href == f"{server.base}/#imagechat={chat_id}"
    copy.click()
    expect(copy).to_have_text("Link copied")

    # Someone opens the link: the page scrolls to the picture and opens that thread.
    page = pages.page()
    page.goto(href)
    thread = page.locator(".imagechat-thread")
    expect(thread).to_be_visible()
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["look here"])
    expect(page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")).to_have_attribute(
        "aria-expanded", "true"
    )
    # A link to something that is not (or no longer) there opens nothing and breaks nothing.
    other = pages.page()
    other.goto(f"{server.base}/#imagechat=no-such-chat")
    ui.wait_live(other)
    expect(other.locator("button.imagechat-marker")).to_have_count(1)
    expect(other.locator(".imagechat-thread")).to_be_hidden()
