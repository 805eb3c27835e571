"""GET /ws: one WebSocket per page, any number of channels. Subscribe-only: writes use REST."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from imagechat.domain import permissions, validation
from imagechat.domain.errors import ImageChatError
from imagechat.realtime import frames
from imagechat.realtime.connection import MAX_CHANNELS_PER_CONNECTION, LiveConnection
from imagechat.realtime.messages import Ping, ProtocolError, Subscribe, Unsubscribe, parse
from imagechat.realtime.writer import GOING_AWAY
from imagechat.web import auth
from imagechat.web.ratelimit import TokenBucket
from imagechat.web.services import Services
from imagechat.web.sinks import AsgiWire
from imagechat.web.wslimits import AddressCounter, ReplayBudget
from imagechat.web.wsprotocol import wire_of

log = logging.getLogger(__name__)

MALFORMED = 4400
RATE_LIMITED = 4029


class LiveSocketEntry:
    """ASGI middleware that takes `/ws` straight to its endpoint.

    Every layer between the server and an endpoint stays on the stack for as long as a
    WebSocket is open; live connections are long and many, so they skip routing and the
    exception layers (the endpoint handles its own errors). `imagechat serve` puts it in
    front of the whole app (`live_first`), so /ws skips FastAPI's own layers too; inside the
    app (as `create_app` adds it) it serves any other way of running the app. It also
    counts connections per client address, for `ws_connections_per_address`.
    """

    def __init__(self, app: ASGIApp, path: str = "/ws") -> None:
        self.app = app
        self.path = path
        self.addresses: AddressCounter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        # Inside the app Starlette has named itself in the scope; in front of it, it is ours.
        owner: Any = scope.get("app") or self.app
        found: Services = owner.state.services
        settings = found.settings
        addresses = self.addresses
        if addresses is None:
            addresses = self.addresses = AddressCounter(settings.ws_connections_per_address)
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
        # The scope lives as long as the connection, and /ws reads nothing more from its
        # headers: let them go (most of an idle connection's handshake memory).
        scope["headers"] = ()
        client = scope.get("client")
        address = str(client[0]) if client else ""
        wire = wire_of(scope) or AsgiWire(receive, send)
        try:
            await wire.accept()
        except ConnectionError:
            return  # gone during the handshake
        if not addresses.enter(address):
            await wire.close(RATE_LIMITED, "too many connections from this address")
            return
        # One frame for the whole life of the connection (each coroutine frame is kept by
        # every idle connection): serve, read, and close here.
        connection = found.live.connect(wire)
        # The endpoint reads. When the writer stops (4008, 1012, a failed send) it interrupts
        # the read; an idle connection holds no other task.
        reading = asyncio.current_task()
        assert reading is not None
        writer = connection.writer
        writer.on_stop = reading.cancel  # the WriterClosed becomes the cancel message
        bucket = TokenBucket(settings.ws_message_rate, settings.ws_message_burst)
        budget = ReplayBudget(settings.ws_replay_rate, settings.ws_replay_burst)
        close_code: int | None = None
        try:
            while True:
                raw = await wire.read()
                if raw is None:
                    break
                if bucket.take() > 0:
                    close_code = RATE_LIMITED
                    break
                try:
                    parsed = parse(raw)
                    if isinstance(parsed, Ping):
                        writer.push(frames.PONG)
                    elif isinstance(parsed, Unsubscribe):
                        connection.leave((parsed.tenant_id, parsed.url_id))
                    else:
                        await _subscribe(connection, found, origin, budget, parsed)
                except ProtocolError as error:
                    if error.fatal:
                        close_code = MALFORMED
                        break
                    writer.push(
                        frames.error(error.code, error.message, error.tenant_id, error.url_id)
                    )
        except asyncio.CancelledError:
            if writer.closed is None or reading.cancelling() == 0:
                raise  # cancelled from outside
            reading.uncancel()
            close_code = writer.closed.code
        except OSError:
            pass
        except Exception:
            log.exception("live connection failed")
            close_code = 1011
        finally:
            writer.on_stop = None
            # Whatever ended the connection, its writer ends with it: no drain task outlives it.
            writer.stop(GOING_AWAY, "disconnected")
            found.live.disconnect(connection)
            addresses.leave(address)
        if close_code is not None:
            await wire.close(close_code)


def live_first(app: ASGIApp) -> ASGIApp:
    """The app with /ws taken before any of its layers: what `imagechat serve` runs."""
    return LiveSocketEntry(app)


async def _subscribe(
    connection: LiveConnection,
    found: Services,
    origin: str | None,
    budget: ReplayBudget,
    message: Subscribe,
) -> None:
    key = (message.tenant_id, message.url_id)
    try:
        tenant = await auth.load_tenant(found.store, message.tenant_id)
        permissions.may_use_origin(tenant, origin)
        if message.token is not None:
            auth.user_from_token(tenant, message.token)
        elif tenant.private:
            raise ProtocolError(
                "unauthorized",
                "this site is private: a token is required",
                tenant_id=message.tenant_id,
                url_id=message.url_id,
            )
        validation.url_id(message.url_id)
    except ImageChatError as error:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
            error.status, "bad_request"
        )
        raise ProtocolError(
            code, error.message, tenant_id=message.tenant_id, url_id=message.url_id
        ) from None
    if key not in connection.subscriptions and (
        len(connection.subscriptions) >= MAX_CHANNELS_PER_CONNECTION
    ):
        raise ProtocolError(
            "too_many_channels",
            f"at most {MAX_CHANNELS_PER_CONNECTION} channels per connection",
            tenant_id=message.tenant_id,
            url_id=message.url_id,
        )
    wait = budget.wait()
    if wait > 0:
        raise ProtocolError(
            "rate_limited",
            f"too much history replayed on this connection: retry in {math.ceil(wait)} s",
            tenant_id=message.tenant_id,
            url_id=message.url_id,
        )
    # Join first, read second: whatever is published while the replay is read gets buffered.
    subscription = connection.join(key)
    if message.offset is None:
        epoch, top = await found.store.head(tenant, message.url_id)
        recovered, replay = True, []
    else:
        history = await found.store.history(tenant, message.url_id, message.epoch, message.offset)
        epoch, top, recovered = history.epoch, history.offset, history.recovered
        replay = history.events
    budget.spend(1 + len(replay))
    found.live.hub.start(connection, subscription, epoch, top, recovered, replay)
