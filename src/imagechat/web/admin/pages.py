"""The console's pages (GET): usage, conversations and a thread, moderation, settings.

Each page reads through the Store, like the admin API, and renders with web/admin/html.py,
where every stored value is escaped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from imagechat.domain import limits
from imagechat.domain.errors import ImageChatError, Invalid
from imagechat.domain.times import utc_day
from imagechat.storage.admin_reads import STATUSES, Search
from imagechat.web.admin import session
from imagechat.web.admin.charts import bar_chart, human
from imagechat.web.admin.html import button_form, esc, hidden, link, page, table
from imagechat.web.metrics import live_now, metrics_of
from imagechat.web.services import services

DEFAULT_DAYS = 30
MAX_DAYS = 366

FLASH = {
    "hidden": "The comment is hidden.",
    "restored": "The comment is visible again.",
    "dismissed": "The flags were dismissed.",
    "deleted": "Deleted.",
    "resolved": "The conversation is resolved.",
    "reopened": "The conversation is open again.",
    "locked": "The image is read-only.",
    "unlocked": "The image takes writes again.",
    "banned": "The user is banned.",
    "unbanned": "The ban is lifted.",
    "saved": "The settings are saved.",
}

CHARTS = (
    ("pubSubMessageCount", "Messages delivered (pubSubMessageCount)", ""),
    ("pubSubBandwidth", "Bandwidth (pubSubBandwidth)", " bytes"),
    ("conversationsCreated", "Conversations created", ""),
    ("commentsCreated", "Comments created", ""),
    ("peakConnections", "Peak connections", ""),
)


async def _console(request: Request) -> session.Console | None:
    return await session.current(request, services(request).store)


def _to_login() -> Response:
    return RedirectResponse("/admin/login", status_code=303)


def _frame(
    console: session.Console,
    title: str,
    body: str,
    current: str,
    request: Request,
    *,
    error: str = "",
) -> Response:
    who = f"{console.user.name} ({console.user.role}) · {console.tenant.id}"
    flash = FLASH.get(request.query_params.get("done", ""), "")
    return page(title, body, current=current, who=who, csrf=console.csrf, flash=flash, error=error)


async def home(request: Request) -> Response:
    if await _console(request) is None:
        return _to_login()
    return RedirectResponse("/admin/usage", status_code=303)


async def login(request: Request, error: str = "", status_code: int = 200) -> Response:
    tenant = request.query_params.get("tenant", "")[: limits.MAX_TENANT_ID]
    token = session.login_token(request)
    form = (
        '<div class="card"><form method="post" action="/admin/login">'
        f"{hidden('csrf', token)}"
        f'<p><label>Site (tenant id)<br><input name="tenant" required value="{esc(tenant)}" '
        'autocomplete="username"></label></p>'
        '<p><label>API secret<br><input name="secret" type="password" '
        'autocomplete="current-password" size="50"></label></p>'
        '<p class="muted">or, for moderators and admins signed in on the site with SSO:</p>'
        "<p><label>Session token (from <code>POST /sessions</code>)<br>"
        '<input name="token" type="password" size="50"></label></p>'
        '<p><button class="primary" data-test="sign-in">Sign in</button></p></form></div>'
    )
    response = page("Sign in", form, error=error, status_code=status_code)
    session.keep_login_token(request, response, token)
    return response


# --- usage --------------------------------------------------------------------------------------


def _day(value: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("days are written YYYY-MM-DD", "invalid_day") from None


async def usage(request: Request) -> Response:
    console = await _console(request)
    if console is None:
        return _to_login()
    found = services(request)
    query = request.query_params
    error = ""
    try:
        last = _day(query.get("to", ""), utc_day())
        first = _day(query.get("from", ""), last - timedelta(days=DEFAULT_DAYS - 1))
        if first > last or (last - first).days >= MAX_DAYS:
            raise Invalid(f"choose from..to, at most {MAX_DAYS} days", "invalid_day")
    except Invalid as problem:
        error = problem.message
        last = utc_day()
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    await found.live.flush_usage()
    days = await found.store.usage(console.tenant.id, first, last)
    labels = [day["day"] for day in days]
    charts = []
    for key, title, unit in CHARTS:
        values = [float(day[key]) for day in days]
        total = max(values, default=0) if key == "peakConnections" else sum(values)
        caption = "highest" if key == "peakConnections" else "total"
        charts.append(
            f'<div class="card" data-series="{esc(key)}"><h2>{esc(title)}</h2>'
            f'<div class="total" data-total="{esc(key)}">{esc(human(total))}{esc(unit)}</div>'
            f'<div class="muted">{caption}, {esc(first.isoformat())} .. '
            f"{esc(last.isoformat())}</div>"
            f"{bar_chart(title, labels, values, unit=unit)}</div>"
        )
    now = live_now(found.live, console.tenant.id)
    rate = metrics_of(request).events_per_second()
    top = table(
        ("Image", "Viewers"),
        (
            f"<tr><td>{esc(item['urlId'])}</td><td>{esc(item['viewers'])}</td></tr>"
            for item in now["topImages"]
        ),
        empty="Nobody is watching an image right now.",
    )
    range_form = (
        '<form method="get" action="/admin/usage" class="card">'
        f'<label>From <input type="date" name="from" value="{esc(first.isoformat())}"></label> '
        f'<label>to <input type="date" name="to" value="{esc(last.isoformat())}"></label> '
        "<button>Show</button></form>"
    )
    live = (
        '<div class="card"><h2>Now (this server)</h2>'
        f'<p><span class="total" data-now="connections">{esc(now["connections"])}</span> '
        f'connections · <span class="total">{rate:.1f}</span> events per second</p>'
        f"<h2>Most viewed images</h2>{top}</div>"
    )
    body = f'{range_form}{live}<div class="grid">{"".join(charts)}</div>'
    return _frame(console, "Usage", body, "usage", request, error=error)


# --- conversations ------------------------------------------------------------------------------


def _status_of(chat: dict[str, Any]) -> str:
    return "resolved" if chat["resolved"] else "open"


async def conversations(request: Request) -> Response:
    console = await _console(request)
    if console is None:
        return _to_login()
    query = request.query_params
    status = query.get("status", "all")
    if status not in STATUSES:
        status = "all"
    try:
        number = max(1, min(10_000, int(query.get("page", "1"))))
    except ValueError:
        number = 1
    search = Search(
        query.get("q", "")[:200].strip(),
        query.get("author", "")[:200].strip(),
        query.get("urlId", "")[:512].strip(),
        status,  # type: ignore[arg-type]
        number,
        50,
    )
    found = await services(request).store.admin_reads.conversations(console.tenant, search)
    rows = []
    for item in found["conversations"]:
        chat, first = item["chat"], item["firstComment"]
        words = first["body"] if first else ""
        marks = []
        if item["flagCount"]:
            marks.append(f"{item['flagCount']} flags")
        if item["hiddenCount"]:
            marks.append(f"{item['hiddenCount']} hidden")
        if item["imageReadOnly"]:
            marks.append("image read-only")
        rows.append(
            f'<tr data-chat="{esc(chat["id"])}">'
            f'<td><a href="{link("/admin/conversations/" + chat["id"])}">'
            f"{esc(words[:140]) or '(no visible words)'}</a></td>"
            f"<td>{esc(chat['author']['name'])}</td><td><code>{esc(chat['urlId'])}</code></td>"
            f"<td>{esc(chat['commentCount'])}</td><td>{esc(_status_of(chat))}</td>"
            f"<td>{esc(', '.join(marks))}</td>"
            f"<td class=muted>{esc(chat['createdAt'][:16])}</td></tr>"
        )
    options = "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s}</option>' for s in STATUSES
    )
    form = (
        '<form method="get" action="/admin/conversations" class="card">'
        f'<input name="q" placeholder="text" value="{esc(search.text)}"> '
        f'<input name="author" placeholder="author" value="{esc(search.author)}"> '
        f'<input name="urlId" placeholder="image" value="{esc(search.url_id)}"> '
        f'<select name="status">{options}</select> <button>Search</button></form>'
    )
    params = {"q": search.text, "author": search.author, "urlId": search.url_id, "status": status}
    pager = ""
    if number > 1:
        pager += (
            f'<a href="{link("/admin/conversations", {**params, "page": number - 1})}">Newer</a> '
        )
    if found["more"]:
        pager += (
            f'<a href="{link("/admin/conversations", {**params, "page": number + 1})}">Older</a>'
        )
    listing = table(
        ("First comment", "Author", "Image", "Comments", "Status", "Moderation", "Created"),
        rows,
        empty="No conversation matches.",
    )
    return _frame(
        console, "Conversations", f"{form}{listing}<p>{pager}</p>", "conversations", request
    )


async def conversation(request: Request) -> Response:
    console = await _console(request)
    if console is None:
        return _to_login()
    chat_id = request.path_params["chatId"]
    try:
        found = await services(request).store.admin_reads.thread(console.tenant, chat_id)
    except ImageChatError as error:
        return _frame(console, "Conversation", "", "conversations", request, error=error.message)
    chat = found["chat"]
    back = f"/admin/conversations/{chat_id}"
    csrf = console.csrf
    actions = [
        button_form(
            "/admin/do/reopen" if chat["resolved"] else "/admin/do/resolve",
            "Reopen" if chat["resolved"] else "Resolve",
            csrf,
            {"chatId": chat_id, "back": back},
            test_id="resolve",
        ),
        button_form(
            "/admin/do/unlock" if found["imageReadOnly"] else "/admin/do/lock",
            "Unlock the image" if found["imageReadOnly"] else "Lock the image (read-only)",
            csrf,
            {"urlId": chat["urlId"], "back": back},
            test_id="lock",
        ),
        button_form(
            "/admin/do/delete-chat",
            "Delete the conversation",
            csrf,
            {"chatId": chat_id, "back": "/admin/conversations"},
            danger=True,
            test_id="delete-chat",
        ),
    ]
    rows = [_comment_row(comment, csrf, back) for comment in found["comments"]]
    body = (
        f'<div class="card"><p>Image <code>{esc(chat["urlId"])}</code> · started by '
        f"{esc(chat['author']['name'])} · {esc(_status_of(chat))}"
        f"{' · image read-only' if found['imageReadOnly'] else ''}</p>"
        f"<p>{' '.join(actions)}</p></div>" + table(("Comment", "Author", "Flags", "Actions"), rows)
    )
    return _frame(console, "Conversation", body, "conversations", request)


def _comment_row(comment: dict[str, Any], csrf: str, back: str, *, image: str = "") -> str:
    fields = {"commentId": comment["id"], "back": back}
    buttons = []
    if comment["hidden"]:
        buttons.append(button_form("/admin/do/restore", "Restore", csrf, fields, test_id="restore"))
    else:
        buttons.append(button_form("/admin/do/hide", "Hide", csrf, fields, test_id="hide"))
    if comment["flagCount"]:
        buttons.append(
            button_form("/admin/do/dismiss", "Dismiss flags", csrf, fields, test_id="dismiss")
        )
    buttons.append(
        button_form(
            "/admin/do/delete-comment", "Delete", csrf, fields, danger=True, test_id="delete"
        )
    )
    buttons.append(
        button_form(
            "/admin/do/ban",
            "Ban the author",
            csrf,
            {"userId": comment["author"]["id"], "back": back},
            danger=True,
            test_id="ban",
        )
    )
    reasons = "".join(
        f"<li>{esc(flag['reason'])} <span class=muted>({esc(flag['userId'])})</span></li>"
        for flag in comment.get("flags", [])
    )
    where = ""
    if image:  # in the queue: where it was said, and a way to its whole thread
        thread = link("/admin/conversations/" + comment["chatId"])
        where = (
            f'<div class="muted">on <code>{esc(image)}</code> · '
            f'<a href="{thread}">open the conversation</a></div>'
        )
    state = ' <span class="muted">[hidden]</span>' if comment["hidden"] else ""
    css = ' class="hidden"' if comment["hidden"] else ""
    return (
        f'<tr{css} data-comment="{esc(comment["id"])}">'
        f'<td><div class="body">{esc(comment["body"])}</div>'
        f"{where}{state}</td><td>{esc(comment['author']['name'])}<div class=muted>"
        f"{esc(comment['author']['id'])}</div></td><td>{esc(comment['flagCount'])}"
        f"<ul>{reasons}</ul></td><td>{' '.join(buttons)}</td></tr>"
    )


# --- moderation -----------------------------------------------------------------------------------


async def moderation_page(request: Request) -> Response:
    console = await _console(request)
    if console is None:
        return _to_login()
    store = services(request).store
    queue = await store.admin_reads.flagged(console.tenant)
    bans = await store.moderation.bans(console.tenant)
    hide_after = await store.moderation.auto_hide_flags(console.tenant)
    csrf = console.csrf
    back = "/admin/moderation"
    flagged = table(
        ("Comment", "Author", "Flags", "Actions"),
        (_comment_row(comment, csrf, back, image=comment["urlId"]) for comment in queue),
        empty="No comment waits for a decision.",
    )
    ban_rows = (
        f'<tr data-ban="{esc(ban.user_id)}"><td>{esc(ban.name or "")}'
        f"<div class=muted>{esc(ban.user_id)}</div></td>"
        f"<td>{esc(ban.reason)}</td><td class=muted>{esc(ban.created_at.isoformat()[:16])}</td><td>"
        + button_form(
            "/admin/do/unban", "Lift", csrf, {"userId": ban.user_id, "back": back}, test_id="unban"
        )
        + "</td></tr>"
        for ban in bans
    )
    ban_form = (
        f'<form method="post" action="/admin/do/ban">{hidden("csrf", csrf)}{hidden("back", back)}'
        '<input name="userId" placeholder="user id (e.g. sso:42)" required> '
        '<input name="reason" placeholder="reason"> <button class="danger">Ban</button></form>'
    )
    auto = (
        '<form method="post" action="/admin/do/settings">'
        f"{hidden('csrf', csrf)}{hidden('back', back)}"
        f'<label>Hide a comment on its own after <input type="number" name="autoHideFlags" min="0" '
        f'max="1000" value="{esc(hide_after)}" class="narrow"> flags</label> '
        '<span class="muted">(0: never)</span> <button>Save</button></form>'
    )
    body = (
        f"<h2>Flagged comments</h2>{flagged}"
        f'<h2>Auto-hide</h2><div class="card">{auto}</div>'
        f'<h2>Banned users</h2><div class="card">{ban_form}</div>'
        + table(("User", "Reason", "Since", ""), ban_rows, empty="Nobody is banned.")
    )
    return _frame(console, "Moderation", body, "moderation", request)


# --- settings -------------------------------------------------------------------------------------


async def settings_page(
    request: Request,
    *,
    sso_result: str = "",
    secret: str = "",
    console: session.Console | None = None,
) -> Response:
    console = console or await _console(request)
    if console is None:
        return _to_login()
    tenant = console.tenant
    csrf = console.csrf
    admin = console.user.role == "admin"
    note = "" if admin else '<p class="error">Settings are for admins; you can read them.</p>'
    checked = {True: " checked", False: ""}
    form = (
        f'<form method="post" action="/admin/do/settings" class="card">{hidden("csrf", csrf)}'
        f"{hidden('back', '/admin/settings')}{hidden('full', '1')}"
        "<p><label>Allowed origins (one per line; none: every origin)<br>"
        '<textarea name="origins" rows="4" cols="50">'
        f"{esc(chr(10).join(tenant.origins))}</textarea>"
        "</label></p>"
        f'<p><label><input type="checkbox" name="private" value="1"{checked[tenant.private]}> '
        "Private: reading needs a session</label></p>"
        f'<p><label><input type="checkbox" name="readOnly" value="1"{checked[tenant.readonly]}> '
        "Read-only: only moderators and admins write</label></p>"
        '<p><button class="primary" data-test="save-settings">Save</button></p></form>'
    )
    shown = ""
    if secret:
        shown = (
            '<p class="flash" role="status">The new API secret (shown once; sessions signed '
            f'with the old one have ended): <code data-test="new-secret">{esc(secret)}</code></p>'
        )
    rotate = (
        f'<div class="card"><h2>API secret</h2>{shown}<p class="muted">A new secret ends every '
        "session and makes every SSO hash made with the old one invalid.</p>"
        + button_form(
            "/admin/do/rotate",
            "Rotate the secret",
            csrf,
            {"back": "/admin/settings"},
            danger=True,
            test_id="rotate",
        )
        + "</div>"
    )
    helper = (
        f'<div class="card"><h2>SSO helper</h2><form method="post" action="/admin/do/sso-hash">'
        f'{hidden("csrf", csrf)}<p><label>userDataJSONBase64<br><textarea name="userData" rows="3" '
        'cols="60"></textarea></label></p><p><label>timestamp (ms)<br><input name="timestamp" '
        'inputmode="numeric"></label></p><p><button>Show the expected hash</button></p></form>'
        f"{sso_result}</div>"
    )
    body = note + form + rotate + helper
    return _frame(console, "Settings", body, "settings", request)
