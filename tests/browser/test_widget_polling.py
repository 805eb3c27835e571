"""Where a proxy blocks WebSockets the widget polls GET /events, stays live in every other way,
says so quietly, and goes back to the socket when it can."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

# Without Playwright the `browser` fixture skips (or fails) every test with the reason.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_blocked_websocket_falls_back_to_polling_and_back(pages: Any, server: Any, ui: Any) -> None:
    blocked = {"on": True}
    attempts = {"blocked": 0, "through": 0}
    polls: list[str] = []

    def websocket(route: Any) -> None:
        if blocked["on"]:
            attempts["blocked"] += 1
            route.close()  # what a proxy that refuses the upgrade looks like to the page
            return
        attempts["through"] += 1
        upstream = route.connect_to_server()
        route.on_message(upstream.send)
        upstream.on_message(route.send)

    context = pages.context()
    ui.track_max_markers(context)
    page = pages.page(context)
    page.route_web_socket("**/ws", websocket)
    page.on("request", lambda r: "/events?" in r.url and polls.append(r.url))
    page.goto(server.base + "/")
    root = page.locator(".imagechat")

    # After a few failed sockets: live by polling, with a quiet note and no alarming banner.
    expect(root).to_have_attribute("data-transport", "polling", timeout=30_000)
    expect(root).to_have_attribute("data-state", "live", timeout=10_000)
    delayed = page.locator(".imagechat-delayed")
    expect(delayed).to_be_visible()
    expect(delayed).to_have_text("Live updates delayed")
    expect(page.locator(".imagechat-offline")).to_be_hidden()
    expect(page.locator(".imagechat-presence")).to_be_hidden()
    assert attempts["blocked"] >= 3

    # Others' writes arrive (within a poll or two) ...
    url_id = ui.url_id_of(page)
    token = server.guest_token("Carol")
    theirs = server.create_chat(url_id, 70, 30, "sent while you poll", token=token)
    marker = page.locator(f"button.imagechat-marker[data-chat-id='{theirs['chat']['id']}']")
    expect(marker).to_have_count(1, timeout=30_000)
    expect(page.locator(".imagechat-live")).to_contain_text("sent while you poll")
    assert polls and all("epoch=" in url and "since=" in url for url in polls), polls

    # ... and the page's own writes work and are not doubled by their polled echo.
    mine = ui.create_marker(page, 0.3, 0.6, "written while polling", name="Alice")
    server.add_comment(theirs["chat"]["id"], "a reply, polled", token=token)
    expect(marker.locator(".imagechat-marker-count")).to_have_text("2", timeout=30_000)
    expect(page.locator("button.imagechat-marker")).to_have_count(2)
    assert page.evaluate("window.__maxMarkers") == 2
    assert mine in {c["id"] for c in server.chats(url_id)}

    # The way opens again: back to the socket, the note goes, events flow live.
    blocked["on"] = False
    expect(root).to_have_attribute("data-transport", "socket", timeout=40_000)
    expect(root).to_have_attribute("data-state", "live")
    expect(delayed).to_be_hidden()
    page.wait_for_timeout(1000)  # a poll already on its way when the socket came back
    polled_before = len(polls)
    later = server.create_chat(url_id, 50, 20, "live again", token=token)
    expect(
        page.locator(f"button.imagechat-marker[data-chat-id='{later['chat']['id']}']")
    ).to_have_count(1, timeout=10_000)
    page.wait_for_timeout(6000)  # longer than the slowest poll interval
    assert len(polls) == polled_before, "still polling after the socket came back"
    assert attempts["through"] >= 1
