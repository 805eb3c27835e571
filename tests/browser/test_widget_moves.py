"""Moving markers by drag and by arrow keys, seen live elsewhere; placing one by keyboard."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _position(page: Page, chat_id: str) -> tuple[float, float]:
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    left = marker.evaluate("(b) => parseFloat(b.style.left)")
    top = marker.evaluate("(b) => parseFloat(b.style.top)")
    return float(left), float(top)


def _wait_position(page: Page, chat_id: str, x: float, y: float, timeout: int = 10_000) -> None:
    page.wait_for_function(
        """([id, x, y]) => {
            const b = document.querySelector(`button.imagechat-marker[data-chat-id="${id}"]`);
            return b && Math.abs(parseFloat(b.style.left) - x) < 0.6
                     && Math.abs(parseFloat(b.style.top) - y) < 0.6;
        }""",
        arg=[chat_id, x, y],
        timeout=timeout,
    )


def test_author_drags_and_arrow_keys_a_marker_others_see_it_live(
    pages: Any, server: Any, ui: Any
) -> None:
    page_a = pages.open_demo()
    page_b = pages.open_demo()
    chat_id = ui.create_marker(page_a, 0.3, 0.3, "move me", name="Alice")
    marker_a = page_a.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    marker_b = page_b.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker_b).to_have_count(1, timeout=10_000)
    expect(marker_a).to_have_class("imagechat-marker imagechat-marker--movable")
    expect(marker_a).to_have_attribute(
        "aria-label", "Conversation by Alice, 1 comment. Arrow keys move it."
    )

    # Drag it from (30, 30) to (60, 50).
    box = page_a.locator("#demo-image").bounding_box()
    assert box is not None
    start = marker_a.bounding_box()
    assert start is not None
    page_a.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page_a.mouse.down()
    target = (box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page_a.mouse.move(*target, steps=8)
    page_a.mouse.up()
    _wait_position(page_a, chat_id, 60, 50)
    # A drag is not a click: no thread opened.
    expect(page_a.locator(".imagechat-thread")).to_be_hidden()
    _wait_position(page_b, chat_id, 60, 50)
    stored = next(c for c in server.chats(ui.url_id_of(page_a)) if c["id"] == chat_id)
    assert abs(stored["x"] - 60) < 0.6 and abs(stored["y"] - 50) < 0.6, stored

    # Arrow keys on the focused marker: 1 % a press, 5 % with Shift; sent once they rest.
    marker_a.focus()
    for _ in range(3):
        page_a.keyboard.press("ArrowRight")
    page_a.keyboard.press("Shift+ArrowDown")
    page_a.keyboard.press("ArrowUp")
    _wait_position(page_b, chat_id, 63, 54)
    expect(marker_a).to_be_focused()
    expect(page_a.locator(".imagechat-live")).to_contain_text("Marker moved")
    stored = next(c for c in server.chats(ui.url_id_of(page_a)) if c["id"] == chat_id)
    assert (round(stored["x"]), round(stored["y"])) == (63, 54), stored

    # Someone else cannot move it: neither by drag nor by keys.
    expect(marker_b).not_to_have_class("imagechat-marker--movable")
    marker_b.focus()
    page_b.keyboard.press("ArrowLeft")
    start_b = marker_b.bounding_box()
    assert start_b is not None
    page_b.mouse.move(start_b["x"] + start_b["width"] / 2, start_b["y"] + start_b["height"] / 2)
    page_b.mouse.down()
    page_b.mouse.move(box["x"] + 10, box["y"] + 10, steps=5)
    page_b.mouse.up()
    page_b.wait_for_timeout(700)
    assert _position(page_b, chat_id) == pytest.approx((63, 54), abs=0.6)
    stored = next(c for c in server.chats(ui.url_id_of(page_a)) if c["id"] == chat_id)
    assert (round(stored["x"]), round(stored["y"])) == (63, 54), stored


def test_keyboard_places_a_marker_and_focus_lands_on_it(pages: Any, server: Any, ui: Any) -> None:
    page = pages.open_demo()
    surface = page.locator(".imagechat-surface")
    surface.focus()
    page.keyboard.press("Enter")
    ghost = page.locator(".imagechat-ghost")
    expect(ghost).to_be_visible()
    expect(page.locator(".imagechat-live")).to_contain_text("Arrow keys move it")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("ArrowUp")
    assert ghost.evaluate("(g) => [g.style.left, g.style.top]") == ["45%", "54%"]
    # Escape gives up; Enter again starts over in the middle.
    page.keyboard.press("Escape")
    expect(ghost).to_be_hidden()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")

    composer = page.locator(".imagechat-composer")
    expect(composer).to_be_visible()
    expect(composer.locator(".imagechat-shortcut")).to_have_text("Ctrl+Enter to send")
    expect(composer.locator("textarea")).to_have_attribute(
        "aria-describedby", composer.locator(".imagechat-shortcut").get_attribute("id") or ""
    )
    ui.fill_name_if_asked(composer, "Kim")
    composer.locator("textarea").fill("placed by keyboard")
    composer.locator("textarea").press("Control+Enter")
    expect(composer).to_be_hidden()

    # Focus is on the new marker, which becomes the real one in place.
    focused = page.locator("button.imagechat-marker:focus")
    expect(focused).to_have_count(1)
    expect(focused).not_to_have_attribute("data-chat-id", "temp-")
    page.wait_for_function("() => !document.activeElement.dataset.chatId.startsWith('temp-')")
    chat_id = focused.get_attribute("data-chat-id")
    stored = next(c for c in server.chats(ui.url_id_of(page)) if c["id"] == chat_id)
    assert (stored["x"], stored["y"]) == (51, 50), stored
    # Enter on it opens its thread.
    page.keyboard.press("Enter")
    expect(page.locator(".imagechat-thread .imagechat-comment-body")).to_have_text(
        ["placed by keyboard"]
    )
