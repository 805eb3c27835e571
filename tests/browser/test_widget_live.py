"""Live behaviour of the widget between real browsers: sync, restart recovery, offline."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_two_browsers_see_each_other_live(pages: Any, server: Any, ui: Any) -> None:
    context_a = pages.context()
    ui.track_max_markers(context_a)
    page_a = pages.open_demo(context_a)
    page_b = pages.open_demo()
    markers_a = page_a.locator("button.imagechat-marker")
    markers_b = page_b.locator("button.imagechat-marker")

    # A drops a marker (typing its name into the widget's guest prompt on the way).
    chat_id = ui.create_marker(page_a, 0.3, 0.4, "Hello from A", name="Alice")

    # B sees it within 2 s, and its first comment in the thread.
    expect(markers_b).to_have_count(1, timeout=2000)
    expect(markers_b.first).to_have_attribute("data-chat-id", chat_id)
    expect(page_b.locator(".imagechat-live")).to_contain_text("Hello from A", timeout=2000)
    markers_b.first.click()
    thread_b = page_b.locator(".imagechat-thread")
    expect(thread_b).to_be_visible()
    expect(thread_b).to_have_attribute("role", "dialog")
    expect(thread_b.locator(".imagechat-comment")).to_have_count(1)
    expect(thread_b.locator(".imagechat-comment-body").first).to_have_text("Hello from A")
    # B is neither the author nor a moderator: no way to delete A's marker.
    expect(thread_b.locator(".imagechat-delete-chat")).to_have_count(0)

    # A keeps its thread open; B replies; A sees the reply arrive in the open thread.
    markers_a.first.click()
    thread_a = page_a.locator(".imagechat-thread")
    expect(thread_a).to_be_visible()
    reply_b = thread_b.locator(".imagechat-reply")
    ui.fill_name_if_asked(reply_b, "Bob")
    reply_b.locator("textarea").fill("Reply from B")
    reply_b.locator("button[type=submit]").click()
    expect(thread_a.locator(".imagechat-comment-body")).to_have_text(
        ["Hello from A", "Reply from B"], timeout=2000
    )
    expect(thread_b.locator(".imagechat-comment-body")).to_have_text(
        ["Hello from A", "Reply from B"]
    )
    expect(markers_a.first.locator(".imagechat-marker-count")).to_have_text("2")

    # A's own marker was drawn exactly once the whole time (optimistic + echo skipped).
    expect(markers_a).to_have_count(1)
    assert page_a.evaluate("window.__maxMarkers") == 1

    # B drops its own marker; A sees it; B (its author) deletes it; A sees it vanish.
    page_b.keyboard.press("Escape")
    expect(thread_b).to_be_hidden()
    chat_b = ui.create_marker(page_b, 0.7, 0.6, "B's spot", name="Bob")
    expect(markers_a).to_have_count(2, timeout=2000)
    page_b.locator(f"button.imagechat-marker[data-chat-id='{chat_b}']").click()
    delete_b = thread_b.locator(".imagechat-delete-chat")
    delete_b.click()
    delete_b.click()  # second click confirms
    expect(page_b.locator(f"[data-chat-id='{chat_b}']")).to_have_count(0)
    expect(page_a.locator(f"button.imagechat-marker[data-chat-id='{chat_b}']")).to_have_count(
        0, timeout=2000
    )

    # A (author) deletes its marker from its open thread; B sees it go and its thread closes.
    expect(thread_a).to_be_visible()
    delete_a = thread_a.locator(".imagechat-delete-chat")
    delete_a.click()
    delete_a.click()
    expect(markers_a).to_have_count(0)
    expect(markers_b).to_have_count(0, timeout=2000)
    assert server.chats(ui.url_id_of(page_a)) == []


def test_pages_recover_after_server_restart(pages: Any, server: Any, ui: Any) -> None:
    page_a = pages.open_demo()
    page_b = pages.open_demo()
    url_id = ui.url_id_of(page_a)
    before = server.create_chat(url_id, 20, 20, "before the restart")
    for page in (page_a, page_b):
        expect(page.locator("button.imagechat-marker")).to_have_count(1, timeout=2000)

    server.stop()
    for page in (page_a, page_b):
        # Both notice the lost connection on their own (close event, no user action).
        expect(page.locator(".imagechat").first).not_to_have_attribute(
            "data-state", "live", timeout=5000
        )
    # Stay down long enough for the pages to back off a few times.
    time.sleep(3)
    server.start()
    # A third client writes right away, most likely before the pages are back.
    token = server.guest_token("Carol")
    during = server.create_chat(url_id, 60, 70, "written while you were away", token=token)

    for page in (page_a, page_b):
        ui.wait_live(page, timeout=30_000)
        marker = page.locator(f"button.imagechat-marker[data-chat-id='{during['chat']['id']}']")
        expect(marker).to_have_count(1, timeout=5000)
        expect(page.locator("button.imagechat-marker")).to_have_count(2)
        expect(page.locator(f"[data-chat-id='{before['chat']['id']}']")).to_have_count(1)
        expect(page.locator(".imagechat-offline")).to_be_hidden()
        # A server that was down is not a proxy blocking WebSockets: no fallback to polling.
        expect(page.locator(".imagechat")).to_have_attribute("data-transport", "socket")

    # And live updates flow again after the reconnect.
    after = server.create_chat(url_id, 80, 30, "after the restart", token=token)
    for page in (page_a, page_b):
        expect(
            page.locator(f"button.imagechat-marker[data-chat-id='{after['chat']['id']}']")
        ).to_have_count(1, timeout=2000)


def test_offline_refuses_writes_and_catches_up(pages: Any, server: Any, ui: Any) -> None:
    context = pages.context()
    page = pages.open_demo(context)
    url_id = ui.url_id_of(page)
    markers = page.locator("button.imagechat-marker")

    # A marker loaded from the snapshot and never opened: its comments are not in the page.
    other = server.create_chat(url_id, 75, 25, "never opened")
    page.reload()
    ui.wait_live(page)
    # A marker whose thread was opened online: its comments are cached for offline reading.
    cached_id = ui.create_marker(page, 0.25, 0.25, "cached comment", name="Alice")
    page.locator(f"button.imagechat-marker[data-chat-id='{cached_id}']").click()
    expect(page.locator(".imagechat-thread .imagechat-comment-body")).to_have_text(
        ["cached comment"]
    )
    page.keyboard.press("Escape")
    expect(markers).to_have_count(2)
    count_before = len(server.chats(url_id))

    context.set_offline(True)
    banner = page.locator(".imagechat-offline")
    expect(banner).to_be_visible(timeout=3000)
    expect(banner).to_have_attribute("role", "status")
    expect(banner).to_contain_text("offline")

    # Existing markers stay visible and openable.
    expect(markers).to_have_count(2)
    page.locator(f"button.imagechat-marker[data-chat-id='{cached_id}']").click()
    thread = page.locator(".imagechat-thread")
    expect(thread.locator(".imagechat-comment-body")).to_have_text(["cached comment"])
    # Replying offline fails at once, visibly.
    thread.locator(".imagechat-reply textarea").fill("offline reply")
    thread.locator(".imagechat-reply button[type=submit]").click()
    expect(thread.locator(".imagechat-reply .imagechat-error")).to_contain_text("offline")
    page.keyboard.press("Escape")
    page.locator(f"button.imagechat-marker[data-chat-id='{other['chat']['id']}']").click()
    expect(thread.locator(".imagechat-thread-status.imagechat-error")).to_contain_text("offline")
    expect(thread.locator(".imagechat-comment")).to_have_count(0)
    page.keyboard.press("Escape")

    # Creating a marker offline fails at once with a visible message; nothing is shown as sent.
    ui.click_image(page, 0.5, 0.8)
    composer = page.locator(".imagechat-composer")
    expect(composer).to_be_visible()
    composer.locator("textarea").fill("typed while offline")
    composer.locator("button[type=submit]").click()
    expect(composer.locator(".imagechat-error")).to_be_visible()
    expect(composer.locator(".imagechat-error")).to_contain_text("offline")
    expect(markers).to_have_count(2)
    page.keyboard.press("Escape")

    # Meanwhile a third client writes.
    during = server.create_chat(url_id, 40, 60, "while you were offline")
    assert len(server.chats(url_id)) == count_before + 1

    context.set_offline(False)
    expect(banner).to_be_hidden(timeout=5000)
    expect(
        page.locator(f"button.imagechat-marker[data-chat-id='{during['chat']['id']}']")
    ).to_have_count(1, timeout=5000)
    ui.wait_live(page)

    # Nothing typed offline was queued and sent later.
    time.sleep(1.0)
    chats = server.chats(url_id)
    assert len(chats) == count_before + 1
    assert [c["body"] for c in server.comments(cached_id)] == ["cached comment"]
    for chat in chats:
        assert all(
            c["body"] not in ("typed while offline", "offline reply")
            for c in server.comments(chat["id"])
        )
    expect(markers).to_have_count(3)


def test_lost_event_is_replayed_and_batches_are_accepted(pages: Any, server: Any, ui: Any) -> None:
    """Between page and server, drop one live event and wrap the others in array frames: the
    widget must notice the hole in the offsets, re-subscribe and get the lost event replayed."""
    dropped: list[int] = []
    subscribes: list[dict[str, Any]] = []

    def handler(route: Any) -> None:
        upstream = route.connect_to_server()

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "subscribe":
                subscribes.append(frame)
            upstream.send(message)

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if isinstance(frame, dict) and frame.get("type") == "new-image-chat" and not dropped:
                dropped.append(frame["offset"])
                return
            if isinstance(frame, dict) and frame.get("type") != "subscribed":
                route.send(json.dumps([frame]))  # a batch of one
                return
            route.send(message)

        route.on_message(to_server)
        upstream.on_message(to_page)

    context = pages.context()
    page = pages.page(context)
    page.route_web_socket("**/ws", handler)
    page.goto(server.base + "/")
    ui.wait_live(page)
    url_id = ui.url_id_of(page)
    assert len(subscribes) == 1

    token = server.guest_token()
    lost = server.create_chat(url_id, 20, 30, "this event is dropped on the way", token=token)
    page.wait_for_timeout(300)
    assert dropped == [lost["offset"]]
    expect(page.locator("button.imagechat-marker")).to_have_count(0)

    # The next event reveals the hole; the re-subscribe replays both.
    later = server.create_chat(url_id, 70, 30, "this one arrives", token=token)
    for created in (lost, later):
        marker = page.locator(f"button.imagechat-marker[data-chat-id='{created['chat']['id']}']")
        expect(marker).to_have_count(1, timeout=3000)
    assert len(subscribes) == 2
    assert subscribes[1]["offset"] == lost["offset"] - 1

    # Comments delivered in array frames update the marker, exactly once.
    chat_id = later["chat"]["id"]
    for text in ("one", "two"):
        server.add_comment(chat_id, text, token=token)
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{chat_id}']")
    expect(marker.locator(".imagechat-marker-count")).to_have_text("3", timeout=2000)
    marker.click()
    expect(page.locator(".imagechat-thread .imagechat-comment-body")).to_have_text(
        ["this one arrives", "one", "two"]
    )
