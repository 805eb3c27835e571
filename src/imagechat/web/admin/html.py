"""The console's HTML: one layout, and small helpers that escape every value they are given.

Everything stored (comments, names, image ids, reasons) is someone's text, never markup:
it only reaches a page through `esc` (or the helpers built on it), so a stored `<script>` is
shown as the characters it is.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from starlette.responses import HTMLResponse

from imagechat.web.headers import inline_source

NAV = (
    ("usage", "Usage", "/admin/usage"),
    ("conversations", "Conversations", "/admin/conversations"),
    ("moderation", "Moderation", "/admin/moderation"),
    ("settings", "Settings", "/admin/settings"),
)

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;
align-items:center}
header a{color:#cfd6e4;text-decoration:none}header a.on{color:#fff;font-weight:600}
header .who{margin-left:auto;font-size:.9em;color:#cfd6e4}
header form{display:inline;margin:0}
main{max-width:1100px;margin:1.2rem auto;padding:0 1.2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1rem;margin:0 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #e6e9ef;padding:.45rem .5rem;text-align:left;vertical-align:top}
th{font-size:.85em;color:#5b6475}
.muted{color:#6b7385;font-size:.9em}.hidden{background:#fff6e0}
.flash{background:#e7f6ec;border:1px solid #9fd3b0;padding:.6rem .8rem;border-radius:6px}
.error{background:#fdecec;border:1px solid #e7a3a3;padding:.6rem .8rem;border-radius:6px}
button{font:inherit;padding:.25rem .7rem;border-radius:5px;border:1px solid #9aa3b5;
background:#fff;cursor:pointer}
button.danger{border-color:#c0392b;color:#c0392b}button.primary{background:#2d5be3;color:#fff;border-color:#2d5be3}
input,select,textarea{font:inherit;padding:.3rem .4rem;border:1px solid #b8bfcc;border-radius:5px}
form.inline{display:inline}
.total{font-size:1.5rem;font-weight:600}
code{background:#eef0f4;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
.narrow{width:5em}
"""

# No script at all, and nothing from elsewhere: the page works with forms and links alone.
# Its one style block is allowed by its hash, so neither an injected <style> nor a style
# attribute (no page of the console has one) would apply.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {inline_source(STYLE)}; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def esc(value: object) -> str:
    """Any value as text inside HTML (elements and quoted attributes alike)."""
    return html.escape(str(value), quote=True)


def link(path: str, params: Mapping[str, object] | None = None) -> str:
    """A URL of ours with a query string, escaped for an attribute."""
    query = urlencode({k: v for k, v in (params or {}).items() if v not in ("", None)})
    return esc(f"{path}?{query}" if query else path)


def hidden(name: str, value: object) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def button_form(
    action: str,
    label: str,
    csrf: str,
    fields: Mapping[str, object] | None = None,
    *,
    danger: bool = False,
    test_id: str = "",
) -> str:
    """A one-button POST form (every state change is a POST with the CSRF token)."""
    inputs = "".join(hidden(k, v) for k, v in (fields or {}).items())
    css = ' class="danger"' if danger else ""
    tid = f' data-test="{esc(test_id)}"' if test_id else ""
    return (
        f'<form class="inline" method="post" action="{esc(action)}">{hidden("csrf", csrf)}'
        f"{inputs}<button{css}{tid}>{esc(label)}</button></form>"
    )


def table(headers: Iterable[str], rows: Iterable[str], *, empty: str = "Nothing here.") -> str:
    body = "".join(rows)
    if not body:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(
    title: str,
    body: str,
    *,
    current: str = "",
    who: str = "",
    csrf: str = "",
    flash: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    nav = ""
    if who:
        links = "".join(
            f'<a href="{path}"{" class=on" if key == current else ""}>{esc(label)}</a>'
            for key, label, path in NAV
        )
        signout = button_form("/admin/logout", "Sign out", csrf)
        nav = f'{links}<span class="who">{esc(who)} {signout}</span>'
    notes = ""
    if flash:
        notes += f'<p class="flash" role="status">{esc(flash)}</p>'
    if error:
        notes += f'<p class="error" role="alert">{esc(error)}</p>'
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · imagechat</title><style>{STYLE}</style></head>"
        f"<body><header><strong>imagechat</strong>{nav}</header>"
        f"<main><h1>{esc(title)}</h1>{notes}{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=SECURITY_HEADERS)
