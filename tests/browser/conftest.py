"""Browser tests: Debian's Chromium, driven by Playwright, against a real `imagechat serve --demo`.

Each test gets its own server process (free loopback port, fresh SQLite file) so markers never
leak between tests. Without /usr/bin/chromium or Playwright the tests skip, unless
IMAGECHAT_REQUIRE_SERVICES=1, where a missing one fails the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

try:
    import httpx
except ImportError:  # pragma: no cover - httpx is a test dependency
    httpx = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REQUIRE_SERVICES = os.environ.get("IMAGECHAT_REQUIRE_SERVICES") == "1"
TENANT = "demo"

# Generous for a loaded CI machine, but every wait in these tests is bounded.
DEFAULT_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_S = 30.0


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (IMAGECHAT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# The server under test
# --------------------------------------------------------------------------------------------


class ServerProcess:
    """`python -m imagechat serve --demo` in a subprocess, restartable on the same port and DB."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.db_path = workdir / "imagechat.db"
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        # The subprocess must find the package even when it is not installed into the venv.
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO / "src"), env.get("PYTHONPATH", "")) if part
        )
        command = [
            sys.executable,
            "-m",
            "imagechat",
            "serve",
            "--demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            f"sqlite+aiosqlite:///{self.db_path}",
        ]
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {' '.join(command)}\n".encode())
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        assert httpx is not None
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                answer = httpx.get(
                    f"{self.base}/api/v1/{TENANT}/chats", params={"urlId": "x"}, timeout=2.0
                )
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {SERVER_START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def demo_api_secret(self) -> str:
        """The demo tenant's API secret, which `serve --demo` prints when it starts."""
        import re

        found = re.findall(r"demo tenant 'demo', API secret: (\S+)", self.log_path.read_text())
        assert found, f"no API secret in the server output:\n{self.log_tail()}"
        return str(found[-1])

    # --- a third client: plain REST ---------------------------------------------------------

    def api(self, path: str) -> str:
        return f"{self.base}/api/v1/{TENANT}{path}"

    def guest_token(self, name: str = "Carol") -> str:
        assert httpx is not None
        answer = httpx.post(self.api("/sessions"), json={"guest": {"name": name}}, timeout=5.0)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def create_chat(
        self, url_id: str, x: float, y: float, comment: str, token: str | None = None
    ) -> dict[str, Any]:
        assert httpx is not None
        answer = httpx.post(
            self.api("/chats"),
            json={
                "urlId": url_id,
                "x": x,
                "y": y,
                "comment": comment,
                "broadcastId": str(uuid.uuid4()),
            },
            headers={"Authorization": f"Bearer {token or self.guest_token()}"},
            timeout=5.0,
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def add_comment(self, chat_id: str, comment: str, token: str | None = None) -> dict[str, Any]:
        assert httpx is not None
        answer = httpx.post(
            self.api(f"/chats/{chat_id}/comments"),
            json={"comment": comment, "broadcastId": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {token or self.guest_token()}"},
            timeout=5.0,
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def lock_image(self, url_id: str, read_only: bool = True) -> None:
        """Locks (or unlocks) an image through the admin API, with the demo tenant's secret."""
        assert httpx is not None
        answer = httpx.post(
            self.api("/admin/images/read-only"),
            json={"urlId": url_id, "readOnly": read_only, "broadcastId": str(uuid.uuid4())},
            headers={"X-API-Key": self.demo_api_secret()},
            timeout=5.0,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["readOnly"] is read_only

    def site_read_only(self, read_only: bool) -> None:
        """Makes the whole demo site read-only (or writable again) through the admin API."""
        assert httpx is not None
        answer = httpx.patch(
            self.api("/admin/settings"),
            json={"readOnly": read_only},
            headers={"X-API-Key": self.demo_api_secret()},
            timeout=5.0,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["readOnly"] is read_only

    def chats(self, url_id: str) -> list[dict[str, Any]]:
        assert httpx is not None
        answer = httpx.get(self.api("/chats"), params={"urlId": url_id}, timeout=5.0)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["chats"])

    def comments(self, chat_id: str) -> list[dict[str, Any]]:
        assert httpx is not None
        answer = httpx.get(self.api(f"/chats/{chat_id}"), timeout=5.0)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["comments"])


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and async tests that run after the browser tests need that thread free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _missing("Playwright for Python is not installed")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"{CHROMIUM} is missing (install Debian's chromium package)")
    if httpx is None:
        _missing("httpx is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def server(
    browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ServerProcess]:
    # Depends on `browser` so that a machine without Chromium skips before starting anything.
    process = ServerProcess(tmp_path, _free_port())
    process.start()
    try:
        yield process
    finally:
        process.stop()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(f"--- server log ({process.log_path}) ---\n{process.log_tail()}")


class Pages:
    """Opens browser contexts and pages on the server, and closes them all at the end."""

    def __init__(self, browser: Browser, server: ServerProcess) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.console: list[str] = []

    def context(self, **options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = self.browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def page(self, context: BrowserContext | None = None) -> Page:
        page = (context or self.context()).new_page()
        label = f"page{len(self.console)}"
        page.on("console", lambda msg: self.console.append(f"{label} {msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.console.append(f"{label} pageerror: {err}"))
        return page

    def open_demo(self, context: BrowserContext | None = None) -> Page:
        page = self.page(context)
        page.goto(self.server.base + "/")
        wait_live(page)
        return page

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):  # best effort at teardown
                context.close()


@pytest.fixture()
def pages(
    browser: Browser, server: ServerProcess, request: pytest.FixtureRequest
) -> Iterator[Pages]:
    helper = Pages(browser, server)
    try:
        yield helper
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed and helper.console:
            print("--- browser console ---\n" + "\n".join(helper.console[-80:]))
        helper.close()


# --------------------------------------------------------------------------------------------
# Page helpers (plain functions, handed to tests by the `ui` fixture)
# --------------------------------------------------------------------------------------------


def wait_live(page: Page, selector: str = ".imagechat", timeout: int = DEFAULT_TIMEOUT_MS) -> None:
    """Waits until the widget has its snapshot and a confirmed subscription."""
    expect(page.locator(selector).first).to_have_attribute("data-state", "live", timeout=timeout)


def url_id_of(page: Page) -> str:
    value = page.locator(".imagechat").first.get_attribute("data-imagechat-url-id")
    assert value, "widget root has no urlId"
    return value


def click_image(page: Page, fx: float, fy: float, image: str = "#demo-image") -> None:
    box = page.locator(image).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def fill_name_if_asked(scope: Any, name: str) -> None:
    field = scope.locator("input[name=name]")
    if field.count() and field.first.is_visible():
        field.first.fill(name)


def create_marker(page: Page, fx: float, fy: float, text: str, name: str = "Alice") -> str:
    """Creates a marker through the UI and returns its real (server) id."""
    click_image(page, fx, fy)
    composer = page.locator(".imagechat-composer")
    expect(composer).to_be_visible()
    fill_name_if_asked(composer, name)
    composer.locator("textarea").fill(text)
    composer.locator("button[type=submit]").click()
    expect(composer).to_be_hidden()
    real = page.locator("button.imagechat-marker:not([data-chat-id^='temp-'])")
    expect(real.last).to_be_attached()
    # The newest marker is the one with our comment's position; find it by coordinates.
    handle = page.wait_for_function(
        """([fx, fy]) => {
            const found = [...document.querySelectorAll('button.imagechat-marker')].find((b) =>
              !b.dataset.chatId.startsWith('temp-') &&
              Math.abs(parseFloat(b.style.left) - fx * 100) < 0.6 &&
              Math.abs(parseFloat(b.style.top) - fy * 100) < 0.6);
            return found ? found.dataset.chatId : null;
        }""",
        arg=[fx, fy],
    )
    return str(handle.json_value())


def track_max_markers(context: BrowserContext) -> None:
    """Records, in window.__maxMarkers, the most marker buttons ever present at once."""
    context.add_init_script(
        """
        window.__maxMarkers = 0;
        const check = () => {
          const n = document.querySelectorAll('button.imagechat-marker').length;
          if (n > window.__maxMarkers) window.__maxMarkers = n;
        };
        new MutationObserver(check).observe(document, { childList: true, subtree: true });
        """
    )


@pytest.fixture()
def remember_name() -> Callable[[BrowserContext, str], None]:
    """Pre-sets the guest name a context would otherwise type into the widget's name prompt."""

    def apply(context: BrowserContext, name: str) -> None:
        context.add_init_script(
            f"localStorage.setItem('imagechat:guest-name:{TENANT}', JSON.stringify({name!r}))"
        )

    return apply


class StaticSite:
    """A tiny site on another loopback port, embedding the widget like a customer's page would."""

    def __init__(self) -> None:
        import http.server
        import threading

        files: dict[str, bytes] = {}
        self.files = files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, html: str) -> str:
        self.files[path] = html.encode()
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def static_site() -> Iterator[StaticSite]:
    site = StaticSite()
    try:
        yield site
    finally:
        site.close()


@pytest.fixture()
def ui() -> Any:
    """The page helpers above, as a fixture so tests need no import path tricks."""
    from types import SimpleNamespace

    return SimpleNamespace(
        wait_live=wait_live,
        url_id_of=url_id_of,
        click_image=click_image,
        fill_name_if_asked=fill_name_if_asked,
        create_marker=create_marker,
        track_max_markers=track_max_markers,
    )
