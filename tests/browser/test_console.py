"""The operator console in Chromium, against `imagechat serve --demo`: sign in, the usage
charts, the moderation flow with a live widget watching on another page, a lock and a
settings change taking effect, and stored markup staying inert.

With IMAGECHAT_SCREENSHOT_DIR set, the pages are saved there as PNG (docs/admin.md uses them).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("IMAGECHAT_SCREENSHOT_DIR", "")


def shoot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"admin-{name}.png"), full_page=True)


def sign_in(page: Any, server: Any) -> None:
    page.goto(server.base + "/admin")
    expect(page).to_have_url(server.base + "/admin/login")
    page.fill("input[name=tenant]", "demo")
    page.fill("input[name=secret]", server.demo_api_secret())
    shoot(page, "sign-in")
    page.click("[data-test=sign-in]")
    expect(page).to_have_url(server.base + "/admin/usage")


def flag(server: Any, comment_id: str, reason: str) -> None:
    answer = httpx.post(
        server.api(f"/comments/{comment_id}/flags"),
        json={"reason": reason, "broadcastId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {server.guest_token('Flagger')}"},
        timeout=5.0,
    )
    assert answer.status_code == 201, answer.text


def test_sign_in_and_usage_charts(pages: Any, server: Any, ui: Any) -> None:
    viewer = pages.open_demo()
    url_id = ui.url_id_of(viewer)
    created = server.create_chat(url_id, 30, 40, "a conversation for the charts")
    server.add_comment(created["chat"]["id"], "and a reply")
    console = pages.page()
    sign_in(console, server)
    charts = console.locator("svg[data-chart]")
    expect(charts).to_have_count(5)
    # Today's bar of the conversations chart stands for the one conversation seeded above.
    expect(console.locator("[data-total=conversationsCreated]")).to_have_text("1")
    expect(console.locator("[data-total=commentsCreated]")).to_have_text("2")
    bars = console.locator("[data-series=commentsCreated] rect")
    expect(bars).to_have_count(30)
    assert float(bars.last.get_attribute("height") or 0) > 0
    expect(bars.last.locator("title")).to_contain_text(": 2")
    # "Now": the demo page open in the other tab is a connection watching this image.
    expect(console.locator("[data-now=connections]")).to_have_text("1")
    expect(console.locator("main")).to_contain_text(url_id)
    # Its style block applies under its policy (allowed by hash, with no 'unsafe-inline').
    header = console.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert header == "rgb(29, 35, 48)"
    assert not [line for line in pages.console if "Content Security Policy" in line]
    shoot(console, "usage")


def test_moderation_flow_seen_live_by_a_widget(pages: Any, server: Any, ui: Any) -> None:
    viewer = pages.open_demo()
    url_id = ui.url_id_of(viewer)
    created = server.create_chat(url_id, 50, 50, "a fine first comment")
    reply = server.add_comment(created["chat"]["id"], "some spam to hide")
    chat_id, comment_id = created["chat"]["id"], reply["comment"]["id"]
    flag(server, comment_id, "this is spam")

    marker = viewer.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    marker.click()
    bodies = viewer.locator(".imagechat-thread .imagechat-comment-body")
    expect(bodies).to_have_text(["a fine first comment", "some spam to hide"])

    console = pages.page()
    sign_in(console, server)
    console.click("text=Moderation")
    row = console.locator(f"tr[data-comment='{comment_id}']")
    expect(row).to_contain_text("some spam to hide")
    expect(row).to_contain_text("this is spam")
    shoot(console, "moderation")
    row.locator("[data-test=hide]").click()
    expect(console.locator(".flash")).to_have_text("The comment is hidden.")
    # The open thread on the other page loses it, live.
    expect(bodies).to_have_text(["a fine first comment"], timeout=5000)

    console.goto(server.base + f"/admin/conversations/{chat_id}")
    hidden_row = console.locator(f"tr[data-comment='{comment_id}']")
    expect(hidden_row).to_contain_text("[hidden]")
    shoot(console, "conversation")
    hidden_row.locator("[data-test=restore]").click()
    expect(console.locator(".flash")).to_have_text("The comment is visible again.")
    expect(bodies).to_have_text(["a fine first comment", "some spam to hide"], timeout=5000)

    # Lock the image: writes are refused, and the open widget turns read-only live (its
    # thread loses the reply form); unlock, and the form comes back.
    console.locator("[data-test=lock]").click()
    expect(console.locator(".flash")).to_have_text("The image is read-only.")
    guest = server.guest_token()
    refused = httpx.post(
        server.api(f"/chats/{chat_id}/comments"),
        json={"comment": "let me in", "broadcastId": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {guest}"},
        timeout=5.0,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "read_only"
    reply_form = viewer.locator(".imagechat-thread .imagechat-reply")
    expect(viewer.locator(".imagechat-readonly")).to_be_visible(timeout=5000)
    expect(reply_form).to_have_count(0)
    console.locator("[data-test=lock]").click()
    expect(console.locator(".flash")).to_have_text("The image takes writes again.")
    expect(reply_form).to_be_visible(timeout=5000)
    expect(viewer.locator(".imagechat-readonly")).to_be_hidden()

    # Delete the conversation: its marker leaves the other page, live.
    console.locator("[data-test=delete-chat]").click()
    expect(console.locator(".flash")).to_have_text("Deleted.")
    expect(marker).to_have_count(0, timeout=5000)


def test_conversations_search_and_a_settings_change(pages: Any, server: Any, ui: Any) -> None:
    viewer = pages.open_demo()
    url_id = ui.url_id_of(viewer)
    server.create_chat(url_id, 10, 10, "about the red roof")
    server.create_chat(url_id, 20, 20, "about the blue door")
    console = pages.page()
    sign_in(console, server)
    console.click("text=Conversations")
    expect(console.locator("tr[data-chat]")).to_have_count(2)
    console.fill("input[name=q]", "blue")
    console.click("text=Search")
    expect(console.locator("tr[data-chat]")).to_have_count(1)
    expect(console.locator("tr[data-chat]")).to_contain_text("about the blue door")
    shoot(console, "conversations")

    console.click("text=Settings")
    console.check("input[name=private]")
    console.click("[data-test=save-settings]")
    expect(console.locator(".flash")).to_have_text("The settings are saved.")
    shoot(console, "settings")
    # Private now: reading without a session is refused.
    answer = httpx.get(server.api("/chats"), params={"urlId": url_id}, timeout=5.0)
    assert answer.status_code == 401
    console.uncheck("input[name=private]")
    console.click("[data-test=save-settings]")
    expect(console.locator(".flash")).to_have_text("The settings are saved.")
    assert httpx.get(server.api("/chats"), params={"urlId": url_id}, timeout=5.0).status_code == 200


def test_stored_markup_is_inert_in_the_console(pages: Any, server: Any, ui: Any) -> None:
    viewer = pages.open_demo()
    url_id = ui.url_id_of(viewer)
    payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    created = server.create_chat(url_id, 60, 60, payload)
    flag(server, created["comment"]["id"], payload)
    console = pages.page()
    sign_in(console, server)
    for path in (
        "/admin/conversations",
        "/admin/moderation",
        f"/admin/conversations/{created['chat']['id']}",
    ):
        console.goto(server.base + path)
        expect(console.locator("main")).to_contain_text("<script>window.__pwned=2</script>")
        assert console.evaluate("window.__pwned") is None
        assert console.locator("main img").count() == 0
