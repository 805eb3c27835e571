"""GET /ws: one WebSocket per page, any number of channels. Subscribe-only: writes use REST."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from imagechat.domain import permissions, validation
from imagechat.domain.errors import ImageChatError
from imagechat.realtime import frames
from imagechat.realtime.connection import MAX_CHANNELS_PER_CONNECTION, LiveConnection
from imagechat.realtime.messages import Ping, ProtocolError, Subscribe, Unsubscribe, parse
from imagechat.realtime.writer import WriterClosed
from imagechat.web import auth, closing
from imagechat.web.ratelimit import TokenBucket
from imagechat.web.services import Services, services
from imagechat.web.sinks import SERVER_SEND, release_handshake, sink_for

log = logging.getLogger(__name__)

MALFORMED = 4400
RATE_LIMITED = 4029


class TooManyMessages(Exception):
    """The client sends faster than `ws_message_rate`: the connection is closed with 4029."""


class LiveSocketEntry:
    """ASGI middleware that takes `/ws` straight to its endpoint.

    Every layer between the server and an endpoint stays on the stack for as long as a
    WebSocket is open; live connections are long and many, so they skip routing and the
    exception layers (the endpoint handles its own errors). It also keeps the server's own
    `send` for WireSink.
    """

    def __init__(self, app: ASGIApp, path: str = "/ws") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            scope[SERVER_SEND] = send
            await websocket_endpoint(WebSocket(scope, receive, send))
        else:
            await self.app(scope, receive, send)


async def websocket_endpoint(websocket: WebSocket) -> None:
    found = services(websocket)
    await websocket.accept()
    release_handshake(websocket)
    connection = found.live.connect(sink_for(websocket, found.settings.ws_compression))
    # The endpoint reads. When the writer stops (4008, 1012, a failed send) it interrupts the
    # read; an idle connection holds no other task.
    reading = asyncio.current_task()
    assert reading is not None
    stopped: list[WriterClosed] = []

    def stop_reading(closed: WriterClosed) -> None:
        stopped.append(closed)
        reading.cancel()

    connection.writer.on_stop = stop_reading
    close_code: int | None = None
    try:
        await _read_loop(websocket, connection, found)
    except asyncio.CancelledError:
        if not stopped:
            raise  # cancelled from outside
        reading.uncancel()
        close_code = stopped[0].code
    except ProtocolError:
        close_code = MALFORMED
    except TooManyMessages:
        close_code = RATE_LIMITED
    except (WebSocketDisconnect, OSError):
        pass
    except Exception:
        log.exception("live connection failed")
        close_code = 1011
    finally:
        connection.writer.on_stop = None
        found.live.disconnect(connection)
    if close_code is not None:
        await closing.close(websocket, close_code)


async def _read_loop(websocket: WebSocket, connection: LiveConnection, found: Services) -> None:
    bucket = TokenBucket(found.settings.ws_message_rate, found.settings.ws_message_burst)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if bucket.take() > 0:
            raise TooManyMessages()
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        try:
            parsed = parse(raw)
            if isinstance(parsed, Ping):
                connection.writer.push(frames.PONG)
            elif isinstance(parsed, Unsubscribe):
                connection.leave((parsed.tenant_id, parsed.url_id))
            else:
                await _subscribe(websocket, connection, found, parsed)
        except ProtocolError as error:
            if error.fatal:
                raise
            connection.writer.push(
                frames.error(error.code, error.message, error.tenant_id, error.url_id)
            )


async def _subscribe(
    websocket: WebSocket, connection: LiveConnection, found: Services, message: Subscribe
) -> None:
    key = (message.tenant_id, message.url_id)
    try:
        tenant = await auth.load_tenant(found.store, message.tenant_id)
        permissions.may_use_origin(tenant, websocket.headers.get("origin"))
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
    # Join first, read second: whatever is published while the replay is read gets buffered.
    subscription = connection.join(key)
    if message.offset is None:
        epoch, top = await found.store.head(tenant, message.url_id)
        recovered, replay = True, []
    else:
        history = await found.store.history(tenant, message.url_id, message.epoch, message.offset)
        epoch, top, recovered = history.epoch, history.offset, history.recovered
        replay = history.events
    found.live.hub.start(connection, subscription, epoch, top, recovered, replay)
