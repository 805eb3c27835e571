"""The console's forms (POST): sign-in and sign-out, and each moderation or settings action.

Every action checks the session and its CSRF token, then goes where the admin API goes:
moderation of an image through the write path (one transaction, a live event), bans and
settings through the Store. It answers with a redirect back to the page it came from, or
with the page of the failure (the Error's message, escaped) and its status.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from imagechat.domain import keys, moderation, tokens, validation
from imagechat.domain.errors import BadRequest, ImageChatError, Invalid, NotFound, Unauthorized
from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.web import auth
from imagechat.web.admin import pages, session
from imagechat.web.admin.html import esc, page
from imagechat.web.api import site_read_only
from imagechat.web.api.admin import sso_check
from imagechat.web.api.deps import perform
from imagechat.web.services import services

Form = dict[str, str]
MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request) -> Form:
    """An urlencoded form, one value per name (the console's forms send nothing else)."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise BadRequest("the form is too large", "malformed_body")
    try:
        parsed = parse_qs(raw.decode(), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form could not be read", "malformed_body") from None
    return {name: values[0] for name, values in parsed.items()}


def failure(error: ImageChatError, *, signed_in: session.Console | None = None) -> Response:
    body = '<p><a href="/admin">Back to the console</a></p>'
    who = signed_in.user.name if signed_in else ""
    return page(
        "That did not work",
        body,
        who=who,
        csrf=signed_in.csrf if signed_in else "",
        error=f"{error.message} ({error.code})",
        status_code=error.status,
    )


def _back(form: Form, done: str) -> Response:
    target = form.get("back", "/admin")
    # Only our own pages: no scheme, no other host, no path outside the console.
    if not target.startswith("/admin") or "//" in target or "\\" in target:
        target = "/admin"
    return RedirectResponse(f"{target}?done={done}", status_code=303)


# --- signing in -----------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    try:
        form = await read_form(request)
        session.check_login_csrf(request, form.get("csrf", ""))
        tenant, user = await _who(request, form)
    except ImageChatError as error:
        return await pages.login(request, f"{error.message}", error.status)
    response = RedirectResponse("/admin/usage", status_code=303)
    session.set_cookie(request, response, tenant, session.new_token(tenant, user))
    return response


async def _who(request: Request, form: Form) -> tuple[Tenant, User]:
    tenant_id = form.get("tenant", "").strip()
    found = services(request)
    tenant = await found.store.get_tenant(tenant_id)
    wrong = Unauthorized("no such site, or the credentials do not match", "unauthorized")
    if tenant is None:
        raise wrong
    # Guessing a secret costs a try of the site's write budget, like any write (429).
    address = request.client.host if request.client else "?"
    found.write_limiter.check(f"{tenant.id}|{address}")
    secret, token = form.get("secret", ""), form.get("token", "").strip()
    if secret:
        if not keys.api_key_matches(tenant.api_secret, secret):
            raise wrong
        return tenant, auth.API_KEY_USER
    if token:
        user = tokens.read(tenant.api_secret, tenant.id, token, time.time()).user
        moderation.may_moderate(user)
        return tenant, user
    raise wrong


async def logout(request: Request) -> Response:
    console = await session.current(request, services(request).store)
    response = RedirectResponse("/admin/login", status_code=303)
    if console is not None:
        form = await read_form(request)
        try:
            session.check_csrf(console, form.get("csrf", ""))
        except ImageChatError as error:
            return failure(error, signed_in=console)
    session.sign_out(response)
    return response


# --- actions --------------------------------------------------------------------------------------

Action = Callable[[Request, session.Console, Form], Awaitable[Response]]


async def act(request: Request) -> Response:
    name = request.path_params["action"]
    handler = ACTIONS.get(name)
    console = await session.current(request, services(request).store)
    try:
        if handler is None:
            raise NotFound("no such action", "not_found")
        console = session.require(console)
        form = await read_form(request)
        session.check_csrf(console, form.get("csrf", ""))
        return await handler(request, console, form)
    except ImageChatError as error:
        return failure(error, signed_in=console)


async def _write(
    request: Request, console: session.Console, name: str, operation: writes.Operation
) -> None:
    """One write on the write path, published live like any other; a failure raises."""
    bid = str(uuid.uuid4())
    answer = await perform(request, console.tenant, console.user, bid, name, operation)
    if answer.status_code >= 400:  # never: the write path raises instead
        raise Invalid("the write failed", "invalid")


def _field(form: Form, name: str) -> str:
    value = form.get(name, "")
    if not value or len(value) > 512 or not validation.storable(value):
        raise Invalid(f"the form needs {name}", "invalid_request")
    return value


async def _hide(request: Request, console: session.Console, form: Form) -> Response:
    comment_id = _field(form, "commentId")
    bid = str(uuid.uuid4())
    await _write(
        request,
        console,
        f"hide_comment:{comment_id}",
        writes.hide_comment(console.user, bid, comment_id),
    )
    return _back(form, "hidden")


async def _restore(request: Request, console: session.Console, form: Form) -> Response:
    comment_id = _field(form, "commentId")
    bid = str(uuid.uuid4())
    await _write(
        request,
        console,
        f"restore_comment:{comment_id}",
        writes.restore_comment(console.user, bid, comment_id),
    )
    return _back(form, "restored")


async def _dismiss(request: Request, console: session.Console, form: Form) -> Response:
    comment_id = _field(form, "commentId")
    await _write(
        request,
        console,
        f"dismiss_flags:{comment_id}",
        writes.dismiss_flags(console.user, comment_id),
    )
    return _back(form, "dismissed")


async def _delete_comment(request: Request, console: session.Console, form: Form) -> Response:
    comment_id = _field(form, "commentId")
    moderation.may_moderate(console.user)
    bid = str(uuid.uuid4())
    await _write(
        request,
        console,
        f"delete_comment:{comment_id}",
        writes.delete_comment(console.user, bid, comment_id),
    )
    return _back(form, "deleted")


async def _delete_chat(request: Request, console: session.Console, form: Form) -> Response:
    chat_id = _field(form, "chatId")
    moderation.may_moderate(console.user)
    bid = str(uuid.uuid4())
    await _write(
        request, console, f"delete_chat:{chat_id}", writes.delete_chat(console.user, bid, chat_id)
    )
    return _back({"back": "/admin/conversations"}, "deleted")


def _resolving(resolved: bool) -> Action:
    async def apply(request: Request, console: session.Console, form: Form) -> Response:
        chat_id = _field(form, "chatId")
        moderation.may_moderate(console.user)
        bid = str(uuid.uuid4())
        operation = writes.update_chat(console.user, bid, chat_id, None, None, resolved)
        await _write(request, console, f"update_chat:{chat_id}", operation)
        return _back(form, "resolved" if resolved else "reopened")

    return apply


def _locking(read_only: bool) -> Action:
    async def apply(request: Request, console: session.Console, form: Form) -> Response:
        url_id = validation.url_id(form.get("urlId", ""))
        bid = str(uuid.uuid4())
        await _write(
            request, console, "lock_image", writes.lock_image(console.user, bid, url_id, read_only)
        )
        return _back(form, "locked" if read_only else "unlocked")

    return apply


async def _ban(request: Request, console: session.Console, form: Form) -> Response:
    moderation.may_moderate(console.user)
    user_id = moderation.user_id(form.get("userId", "").strip())
    reason = moderation.ban_reason(form.get("reason", ""))
    await services(request).store.moderation.ban(console.tenant, user_id, reason, console.user.id)
    return _back(form, "banned")


async def _unban(request: Request, console: session.Console, form: Form) -> Response:
    moderation.may_moderate(console.user)
    user_id = moderation.user_id(form.get("userId", ""))
    await services(request).store.moderation.unban(console.tenant, user_id)
    return _back(form, "unbanned")


async def _settings(request: Request, console: session.Console, form: Form) -> Response:
    """The settings form (`full`) sends every setting; the moderation page only autoHideFlags."""
    moderation.may_administer(console.user)
    hide_after = None
    if "autoHideFlags" in form:
        try:
            hide_after = moderation.auto_hide_flags(int(form["autoHideFlags"] or "0"))
        except ValueError:
            raise Invalid("autoHideFlags must be a whole number", "invalid_auto_hide") from None
    full = form.get("full") == "1"
    origins = [line.strip() for line in form.get("origins", "").splitlines() if line.strip()]
    read_only_changed = await services(request).store.moderation.update_settings(
        console.tenant,
        origins=origins if full else None,
        private=form.get("private") == "1" if full else None,
        readonly=form.get("readOnly") == "1" if full else None,
        auto_hide_flags=hide_after,
    )
    if read_only_changed:
        await site_read_only.announce(request, console.tenant, console.user)
    return _back(form, "saved")


async def _rotate(request: Request, console: session.Console, form: Form) -> Response:
    moderation.may_administer(console.user)
    store = services(request).store
    secret = await store.rotate_secret(console.tenant.id)
    tenant = await auth.load_tenant(store, console.tenant.id)
    # The console's own session was signed with the old secret: sign this person in again.
    token = session.new_token(tenant, console.user)
    signed_in = session.Console(tenant, console.user, session.csrf_for(tenant, token))
    response = await pages.settings_page(request, secret=secret, console=signed_in)
    session.set_cookie(request, response, tenant, token)
    return response


async def _sso_hash(request: Request, console: session.Console, form: Form) -> Response:
    moderation.may_administer(console.user)
    try:
        timestamp = int(form.get("timestamp", "").strip())
    except ValueError:
        raise Invalid("timestamp must be milliseconds since the epoch", "invalid_sso") from None
    found = sso_check(console.tenant, form.get("userData", "").strip(), timestamp)
    user = found["user"]
    verdict = (
        f"names {esc(user['name'])} ({esc(user['id'])}, {esc(user['role'])})"
        if user
        else f"would be refused: {esc(found['problem'])}"
    )
    result = (
        f'<p>Expected <code>verificationHash</code>: <code data-test="sso-hash">'
        f"{esc(found['verificationHash'])}</code></p><p>This payload {verdict}.</p>"
    )
    return await pages.settings_page(request, sso_result=result)


ACTIONS: dict[str, Action] = {
    "hide": _hide,
    "restore": _restore,
    "dismiss": _dismiss,
    "delete-comment": _delete_comment,
    "delete-chat": _delete_chat,
    "resolve": _resolving(True),
    "reopen": _resolving(False),
    "lock": _locking(True),
    "unlock": _locking(False),
    "ban": _ban,
    "unban": _unban,
    "settings": _settings,
    "rotate": _rotate,
    "sso-hash": _sso_hash,
}
