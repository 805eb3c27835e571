"""An image locked and unlocked through the admin API while a widget is open on it: the widget
turns read-only live and back, without a reload and without losing what was typed; a write the
server refuses as read-only does the same; and the whole site switched to read-only and back
reaches an open widget the same way."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest

from tests.browser.test_widget_page import SSO_PAGE, _sso

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTICE = "Read-only: comments are closed here."


def has_class(name: str) -> re.Pattern[str]:
    """For expect(...).to_have_class: the element has `name` among its classes."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def _demo_as_rita(pages: Any, ui: Any, remember_name: Any) -> tuple[Any, str]:
    """The demo page open for a guest whose name is already known, and its image's urlId."""
    context = pages.context()
    remember_name(context, "Rita")
    page = pages.open_demo(context)
    return page, ui.url_id_of(page)


def test_a_lock_turns_an_open_widget_read_only_live_and_back(
    pages: Any, server: Any, ui: Any, remember_name: Any
) -> None:
    page, url_id = _demo_as_rita(pages, ui, remember_name)
    existing = server.create_chat(url_id, 70, 70, "written before the lock")
    chat_id = existing["chat"]["id"]
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker).to_have_count(1, timeout=2000)
    root = page.locator(".imagechat")
    note = page.locator(".imagechat-readonly")
    composer = page.locator(".imagechat-composer")
    thread = page.locator(".imagechat-thread")
    expect(note).to_be_hidden()

    # Someone is halfway through a new conversation when a moderator locks the image.
    ui.click_image(page, 0.3, 0.4)
    expect(composer).to_be_visible()
    composer.locator("textarea").fill("typed before the lock")
    server.lock_image(url_id, True)

    # No reload: the notice shows, and the composer keeps the words but cannot send them.
    expect(note).to_be_visible(timeout=5000)
    expect(note).to_have_text(NOTICE)
    expect(root).to_have_class(has_class("imagechat--readonly"))
    expect(composer).to_be_visible()
    expect(composer.locator("textarea")).to_have_value("typed before the lock")
    expect(composer.locator("button[type=submit]")).to_be_disabled()
    composer.locator(".imagechat-cancel").click()
    expect(composer).to_be_hidden()

    # The picture starts nothing now, by mouse or keyboard, and a thread offers no reply.
    ui.click_image(page, 0.5, 0.5)
    expect(composer).to_be_hidden()
    expect(page.locator(".imagechat-ghost")).to_be_hidden()
    expect(page.locator(".imagechat-surface")).not_to_have_attribute("tabindex", "0")
    marker.click()
    expect(thread).to_be_visible()
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["written before the lock"])
    expect(thread.locator(".imagechat-reply")).to_have_count(0)

    # Unlocked: the open thread gets its reply form back, live, and replying works.
    server.lock_image(url_id, False)
    expect(note).to_be_hidden(timeout=5000)
    expect(root).not_to_have_class(has_class("imagechat--readonly"))
    reply = thread.locator(".imagechat-reply")
    expect(reply).to_be_visible()
    reply.locator("textarea").fill("a reply after the unlock")
    reply.locator("button[type=submit]").click()
    expect(thread.locator(".imagechat-comment-body")).to_have_text(
        ["written before the lock", "a reply after the unlock"]
    )
    page.keyboard.press("Escape")
    expect(thread).to_be_hidden()

    # And so does starting a conversation, from a click on the picture.
    created = ui.create_marker(page, 0.3, 0.4, "written after the unlock")
    assert created != chat_id
    bodies = [comment["body"] for comment in server.comments(chat_id)]
    assert bodies == ["written before the lock", "a reply after the unlock"]
    assert len(server.chats(url_id)) == 2


def test_a_site_wide_read_only_switch_reaches_an_open_widget_live_and_back(
    pages: Any, server: Any, ui: Any, remember_name: Any
) -> None:
    page, url_id = _demo_as_rita(pages, ui, remember_name)
    server.create_chat(url_id, 60, 60, "written before the switch")
    note = page.locator(".imagechat-readonly")
    composer = page.locator(".imagechat-composer")
    expect(page.locator("button.imagechat-marker")).to_have_count(1, timeout=2000)
    expect(note).to_be_hidden()
    try:
        server.site_read_only(True)
        expect(note).to_be_visible(timeout=5000)
        ui.click_image(page, 0.5, 0.5)
        expect(composer).to_be_hidden()
    finally:
        server.site_read_only(False)
    expect(note).to_be_hidden(timeout=5000)
    ui.create_marker(page, 0.3, 0.4, "written after the switch")
    assert len(server.chats(url_id)) == 2


def test_a_write_refused_as_read_only_turns_the_widget_read_only(
    pages: Any, server: Any, ui: Any, remember_name: Any
) -> None:
    page, url_id = _demo_as_rita(pages, ui, remember_name)

    # The image is not locked: only the refusal (as the server words one) can tell the widget.
    def refuse(route: Any) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fulfill(
            status=403,
            content_type="application/json",
            body=json.dumps(
                {"status": "error", "code": "read_only", "message": "this image is read-only"}
            ),
        )

    page.route(f"{server.base}/api/v1/demo/chats", refuse)

    ui.click_image(page, 0.4, 0.6)
    composer = page.locator(".imagechat-composer")
    composer.locator("textarea").fill("my words must not vanish")
    composer.locator("button[type=submit]").click()

    # The marker being created goes, its words come back in a composer that cannot send.
    expect(page.locator(".imagechat-readonly")).to_be_visible(timeout=5000)
    expect(composer).to_be_visible()
    expect(composer.locator("textarea")).to_have_value("my words must not vanish")
    expect(composer.locator(".imagechat-error")).to_have_text(NOTICE)
    expect(composer.locator("button[type=submit]")).to_be_disabled()
    expect(page.locator("button.imagechat-marker")).to_have_count(0)
    assert server.chats(url_id) == []


def test_on_a_locked_image_an_sso_moderator_writes_before_any_session_and_others_cannot(
    pages: Any, server: Any, static_site: Any, ui: Any
) -> None:
    """Before a first write there is no session to tell the role: the site's SSO payload does
    (the server checks its signature when the moderator writes)."""
    server.lock_image("sso-page", True)
    secret = server.demo_api_secret()
    views = {}
    for name, user in (
        ("moderator", {"id": "mod-7", "username": "Mona", "isModerator": True}),
        ("member", {"id": "user-7", "username": "Uma"}),
    ):
        address = static_site.add(
            f"/sso-{name}.html",
            SSO_PAGE.format(server=server.base, sso=json.dumps(_sso(secret, user))),
        )
        page = pages.page(pages.context())
        page.goto(address)
        expect(page.locator(".imagechat")).to_have_attribute("data-state", "live")
        views[name] = page

    member = views["member"]
    expect(member.locator(".imagechat-readonly")).to_be_visible(timeout=5000)
    ui.click_image(member, 0.5, 0.5, "#pic")
    expect(member.locator(".imagechat-composer")).to_be_hidden()

    moderator = views["moderator"]
    expect(moderator.locator(".imagechat-readonly")).to_be_hidden()
    ui.click_image(moderator, 0.4, 0.6, "#pic")
    composer = moderator.locator(".imagechat-composer")
    expect(composer).to_be_visible()
    composer.locator("textarea").fill("a note on a locked image")
    composer.locator("button[type=submit]").click()
    expect(composer).to_be_hidden()
    expect(moderator.locator("button.imagechat-marker")).to_have_count(1)
    # The member sees it arrive live, and still may not write.
    expect(member.locator("button.imagechat-marker")).to_have_count(1, timeout=5000)
    [chat] = server.chats("sso-page")
    assert chat["author"]["role"] == "moderator"
