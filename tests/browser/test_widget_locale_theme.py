"""The browser's language by default, overridable; dark mode following prefers-color-scheme."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_italian_browser_gets_italian_unless_told_otherwise(
    pages: Any, server: Any, ui: Any
) -> None:
    # The demo page itself says lang="en": the reader's language wins.
    context = pages.context(locale="it-IT")
    page = pages.open_demo(context)
    token = server.guest_token("Ada")
    chat_id = server.create_chat(ui.url_id_of(page), 30, 30, "ciao", token=token)["chat"]["id"]
    server.add_comment(chat_id, "ancora", token=token)
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker).to_have_attribute(
        "aria-label", "Conversazione di Ada, 2 commenti", timeout=10_000
    )
    expect(page.locator(".imagechat-surface")).to_have_attribute(
        "aria-label", "Immagine con commenti. Fai clic su un punto per iniziare una conversazione."
    )
    marker.click()
    thread = page.locator(".imagechat-thread")
    expect(thread.locator(".imagechat-thread-title")).to_have_text("Conversazione iniziata da Ada")
    expect(thread.locator(".imagechat-copy-link")).to_have_text("Copia link")
    expect(thread.locator(".imagechat-comment-time").first).to_have_text("ora")
    page.keyboard.press("Escape")

    # The page may choose: an explicit locale wins, live.
    page.evaluate("() => window.demoChat.update({ locale: 'es' })")
    expect(marker).to_have_attribute("aria-label", "Conversación de Ada, 2 comentarios")
    page.evaluate("() => window.demoChat.update({ locale: 'auto' })")
    expect(marker).to_have_attribute("aria-label", "Conversazione di Ada, 2 commenti")
    languages = page.evaluate("() => ImageChat.locales")
    assert sorted(languages) == ["de", "en", "es", "fr", "it", "pt"]


def test_dark_mode_follows_the_system_by_default(pages: Any, server: Any, ui: Any) -> None:
    context = pages.context(color_scheme="dark")
    page = pages.open_demo(context)
    root = page.locator(".imagechat")
    expect(root).to_have_class("imagechat imagechat--dark")
    server.create_chat(ui.url_id_of(page), 50, 50, "in the dark")
    page.locator("button.imagechat-marker").first.click()
    thread = page.locator(".imagechat-thread")
    expect(thread).to_have_class("imagechat-thread imagechat-floating imagechat--dark")
    background = thread.evaluate("(t) => getComputedStyle(t).backgroundColor")
    assert background == "rgb(31, 41, 55)", background
    page.keyboard.press("Escape")

    # The system switches to light: so does the widget, live.
    page.emulate_media(color_scheme="light")
    expect(root).not_to_have_class("imagechat imagechat--dark")
    # An explicit setting wins over the system's.
    page.evaluate("() => window.demoChat.update({ hasDarkBackground: true })")
    expect(root).to_have_class("imagechat imagechat--dark")
    page.emulate_media(color_scheme="dark")
    page.evaluate("() => window.demoChat.update({ hasDarkBackground: false })")
    expect(root).not_to_have_class("imagechat imagechat--dark")
    page.evaluate("() => window.demoChat.update({ hasDarkBackground: 'auto' })")
    expect(root).to_have_class("imagechat imagechat--dark")
