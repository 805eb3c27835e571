"""On a phone: finger-sized pins, and full-screen thread and composer that still show the spot."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def test_phone_pins_are_big_and_threads_show_the_spot(pages: Any, server: Any, ui: Any) -> None:
    page = pages.open_demo(pages.context(**PHONE))
    chat_id = server.create_chat(ui.url_id_of(page), 70, 40, "on a phone")["chat"]["id"]
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker).to_be_visible(timeout=10_000)

    # 5 % of a ~358 px picture would be an 18 px square: the visible pin is 32 px at least.
    image = page.locator("#demo-image").bounding_box()
    assert image is not None and image["width"] * 0.05 < 20
    pin = marker.bounding_box()
    assert pin is not None and pin["width"] >= 32 and pin["height"] >= 32, pin
    # Still centred on its spot.
    assert abs(pin["x"] + pin["width"] / 2 - (image["x"] + image["width"] * 0.7)) <= 1
    assert abs(pin["y"] + pin["height"] / 2 - (image["y"] + image["height"] * 0.4)) <= 1

    marker.tap()
    thread = page.locator(".imagechat-thread")
    expect(thread).to_be_visible()
    expect(thread).to_have_class(
        "imagechat-thread imagechat-floating imagechat-floating--fullscreen"
    )
    box = thread.bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"]) == (0, 0, 390), box
    crop = thread.locator(".imagechat-crop")
    expect(crop).to_be_visible()
    expect(crop).to_have_attribute("aria-label", "The spot on the image")
    crop_box = crop.bounding_box()
    assert crop_box is not None and crop_box["y"] <= 1 and crop_box["height"] >= 120
    # The spot is in the middle of the crop: the picture point under the pin is (70 %, 40 %).
    spot = crop.evaluate(
        """(c) => {
            const img = c.querySelector('img').getBoundingClientRect();
            const pin = c.querySelector('.imagechat-crop-pin').getBoundingClientRect();
            const x = pin.left + pin.width / 2, y = pin.top + pin.height / 2;
            return [(x - img.left) / img.width * 100, (y - img.top) / img.height * 100];
        }"""
    )
    assert spot == pytest.approx([70, 40], abs=1), spot
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["on a phone"])
    thread.locator(".imagechat-close").tap()
    expect(thread).to_be_hidden()

    # The composer too.
    ui.click_image(page, 0.2, 0.8)
    composer = page.locator(".imagechat-composer")
    expect(composer).to_be_visible()
    expect(composer).to_have_class(
        "imagechat-composer imagechat-floating imagechat-floating--fullscreen"
    )
    expect(composer.locator(".imagechat-crop")).to_be_visible()
    ghost = page.locator(".imagechat-ghost").bounding_box()
    assert ghost is not None and ghost["width"] >= 32
