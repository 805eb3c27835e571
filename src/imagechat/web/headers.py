"""Security headers on every answer, and a Content-Security-Policy on every HTML page.

Pages the server renders allow scripts and styles from the server itself only. Inline blocks
are allowed by their hash, and only in files shipped with the package (the demo page): data
people store never reaches an HTML page, and if it ever did it would not carry a known hash.
Any HTML answer that names no policy of its own gets the strictest one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# On every answer. The server's own 500s get them too (they are answered outside the
# middleware that adds them to everything else).
EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# A page with no script at all: the landing page, error pages.
STRICT_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)
_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)


def page_policy(*, scripts: str = "", styles: str = "", images: str = "", connect: str = "") -> str:
    """A policy for a page of ours: its own origin plus the given sources per directive."""
    return (
        "default-src 'none'; "
        f"script-src 'self'{scripts}; "
        f"style-src 'self'{styles}; "
        f"img-src 'self' data:{images}; "
        f"connect-src 'self'{connect}; "
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def inline_source(block: str) -> str:
    """The CSP source that allows one inline `<script>` or `<style>` block: its SHA-256."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"


def shipped_page_policy(html: str) -> str:
    """The policy of a page shipped with the package: its inline blocks allowed by hash.

    Its images may come from anywhere over HTTPS (people's avatars), and its live connection
    goes to the server it came from.
    """

    def hashes(pattern: re.Pattern[str]) -> str:
        found = {inline_source(block) for block in pattern.findall(html)}
        return "".join(f" {source}" for source in sorted(found))

    return page_policy(
        scripts=hashes(_INLINE_SCRIPT), styles=hashes(_INLINE_STYLE), images=" https:"
    )


class StaticPages(StaticFiles):
    """Static files, the HTML ones with the policy their own inline blocks need."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if str(full_path).endswith(".html"):
            policy = shipped_page_policy(Path(full_path).read_text(errors="replace"))
            response.headers["Content-Security-Policy"] = policy
        return response


class SecurityHeaders:
    """nosniff on everything; on HTML, frame denial and a policy if the page set none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_ANSWER.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", STRICT_POLICY)
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
