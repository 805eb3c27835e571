"""imagechat's own WebSocket protocol under uvicorn: the fit with uvicorn, compression shared by
every connection, over-size frames, connection and replay limits, writers ended on disconnect."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
import websockets
from packaging.requirements import Requirement
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from imagechat.client import ImageChatClient
from imagechat.settings import Settings
from imagechat.web.wsprotocol import LiveWebSocketProtocol, uvicorn_options
from tests.live.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def _subscribe(tenant: str, url_id: str = "img", **extra: object) -> str:
    return orjson.dumps(
        {"type": "subscribe", "tenantId": tenant, "urlId": url_id, **extra}
    ).decode()


async def _next(ws: Any) -> dict[str, Any]:
    """The next frame that is not a presence count (one follows every `subscribed`)."""
    while True:
        frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] != "presence":
            return frame


def _ws(server: LiveServer) -> str:
    return server.url.replace("http", "ws") + "/ws"


# --- the fit with uvicorn: these fail loudly when an upgrade no longer fits -------------------


def test_installed_uvicorn_is_in_the_tested_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = [
        Requirement(dep) for dep in project["project"]["dependencies"] if dep.startswith("uvicorn")
    ]
    assert pin.specifier.contains(uvicorn.__version__), (
        f"uvicorn {uvicorn.__version__} is outside {pin.specifier}, the range "
        "LiveWebSocketProtocol is tested with: run tests/live and widen the pin, or fix the class"
    )


def test_uvicorn_builds_ws_protocols_the_way_the_class_expects() -> None:
    ours = set(inspect.signature(LiveWebSocketProtocol.__init__).parameters)
    theirs = set(inspect.signature(WebSocketsSansIOProtocol.__init__).parameters)
    assert ours == theirs, "uvicorn now constructs its WebSocket protocols differently"
    config = uvicorn.Config(lambda *_: None, **uvicorn_options(Settings()))
    config.load()
    assert config.ws_protocol_class is LiveWebSocketProtocol
    for name in (
        "loaded_app",
        "root_path",
        "asgi_version",
        "ws_max_size",
        "ws_ping_interval",
        "ws_ping_timeout",
        "ws_per_message_deflate",
    ):
        assert hasattr(config, name), f"uvicorn's Config has no {name} any more"
    state = ServerState()
    for name in ("connections", "tasks", "default_headers"):
        assert hasattr(state, name), f"uvicorn's ServerState has no {name} any more"
    assert callable(getattr(WebSocketsSansIOProtocol, "shutdown", None))


@pytest.mark.parametrize("http", ["httptools", "h11"])
async def test_every_http_protocol_hands_ws_connections_to_our_class(
    sqlite_url: str, http: str
) -> None:
    server = LiveServer(sqlite_url, http=http)
    await server.start()
    try:
        assert server.store is not None
        await server.store.create_tenant("fit")
        async with websockets.connect(_ws(server)) as ws:
            await ws.send(_subscribe("fit"))
            assert orjson.loads(await ws.recv())["type"] == "subscribed"
            (connection,) = server.live.connections
            assert type(connection.writer._sink) is LiveWebSocketProtocol
            await ws.send('{"type": "ping"}')
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 5)) in (
                {"type": "pong"},
                {"type": "presence", "tenantId": "fit", "urlId": "img", "viewers": 1},
            )
            stopping = asyncio.create_task(server.stop())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
            await stopping
    finally:
        await server.close()


# --- compression: once per frame, shared ------------------------------------------------------


async def _raw_deflate_client(
    port: int, tenant: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """A client that offers deflate exactly as Chromium does, reading raw frames."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode()
    )
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    extensions = [
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("sec-websocket-extensions:")
    ]
    payload = _subscribe(tenant).encode()
    mask = os.urandom(4)
    writer.write(
        bytes((0x81, 0x80 | len(payload)))
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    )
    await writer.drain()
    return reader, writer, extensions[0] if extensions else ""


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first, await reader.readexactly(length)


def _inflate(body: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(body + b"\x00\x00\xff\xff")


async def test_each_frame_is_compressed_once_and_shared_by_every_deflate_client(
    server: LiveServer, tenant: str, writer: ImageChatClient
) -> None:
    raws = [await _raw_deflate_client(server.port, tenant) for _ in range(2)]
    try:
        for reader, _, negotiated in raws:
            assert negotiated.startswith("permessage-deflate")
            assert "server_no_context_takeover" in negotiated
            first, body = await _read_frame(reader)
            data = _inflate(body) if first & 0x40 else body
            assert orjson.loads(data)["type"] == "subscribed"
        async with (
            websockets.connect(_ws(server), compression="deflate") as library,
            websockets.connect(_ws(server), compression=None) as plain,
        ):
            for ws in (library, plain):
                await ws.send(_subscribe(tenant))
                assert orjson.loads(await ws.recv())["type"] == "subscribed"
            assert [type(e).__name__ for e in library.protocol.extensions] == ["PerMessageDeflate"]
            assert plain.protocol.extensions == []
            made = await writer.create_chat("img", 5, 5, "a comment of some length " * 6)
            seen = []
            for reader, _, _ in raws:
                while True:
                    first, body = await asyncio.wait_for(_read_frame(reader), 5)
                    data = _inflate(body) if first & 0x40 else body
                    if orjson.loads(data)["type"] != "presence":
                        break
                assert first == 0xC1, "the event was not sent compressed"
                seen.append(body)
                event = orjson.loads(_inflate(body))
                assert event["type"] == "new-image-chat" and event["chat"] == made["chat"]
            assert seen[0] == seen[1]  # the very same compressed bytes for every subscriber
            for ws in (library, plain):  # a deflate library client and a plain one decode it
                while True:
                    event = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    if event["type"] != "presence":
                        break
                assert event["chat"] == made["chat"]
            assert len(seen[0]) < len(orjson.dumps(event))
    finally:
        for _, raw_writer, _ in raws:
            raw_writer.close()


async def test_compression_off_is_plain_for_everyone(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, ws_compression=False)
    await server.start()
    try:
        async with websockets.connect(_ws(server), compression="deflate") as ws:
            await ws.send('{"type": "ping"}')
            assert orjson.loads(await ws.recv()) == {"type": "pong"}
            assert ws.protocol.extensions == []
    finally:
        await server.close()


# --- protocol edges ---------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_every_over_size_frame_is_closed_with_4400(
    server: LiveServer, compression: str | None
) -> None:
    # 2,800 characters of 3 bytes each: under 8 KiB in characters, over it in bytes.
    for message in ("€" * 2800, "x" * 9000, "x" * 100_000, "x" * 2_000_000):
        async with websockets.connect(_ws(server), compression=compression, max_size=None) as ws:
            with contextlib.suppress(websockets.ConnectionClosed):
                await ws.send(message)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None, len(message)
            assert closed.value.rcvd.code == 4400, (len(message), closed.value.rcvd.code)


async def test_connections_per_address_are_limited_with_4029(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, ws_connections_per_address=2)
    await server.start()
    try:
        async with websockets.connect(_ws(server)) as one, websockets.connect(_ws(server)):
            async with websockets.connect(_ws(server)) as third:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(third.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
            await one.send('{"type": "ping"}')
            assert orjson.loads(await one.recv()) == {"type": "pong"}
        # Closed connections no longer count.
        async with websockets.connect(_ws(server)) as again:
            await again.send('{"type": "ping"}')
            assert orjson.loads(await asyncio.wait_for(again.recv(), 5)) == {"type": "pong"}
    finally:
        await server.close()


async def test_replay_beyond_the_budget_is_refused_per_subscribe(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, ws_replay_rate=0.5, ws_replay_burst=8, presence_interval=60)
    await server.start()
    try:
        assert server.store is not None
        await server.store.create_tenant("budget")
        async with ImageChatClient(server.url, "budget") as writer:
            await writer.guest_session("W")
            for i in range(6):
                await writer.create_chat("img", 1, 1, f"c{i}")
        async with websockets.connect(_ws(server)) as ws:
            await ws.send(_subscribe("budget", offset=0))
            answer = await _next(ws)
            assert answer["type"] == "subscribed" and len(answer["events"]) == 6
            await ws.send(_subscribe("budget", "other", offset=0))
            answer = await _next(ws)
            assert answer["type"] == "subscribed"  # 7 of 8 spent
            await ws.send(_subscribe("budget", "img", offset=0))
            refused = await _next(ws)
            assert refused["type"] == "error" and refused["code"] == "rate_limited"
            assert (refused["tenantId"], refused["urlId"]) == ("budget", "img")
            await ws.send('{"type": "ping"}')  # the connection stays open
            assert await _next(ws) == {"type": "pong"}
    finally:
        await server.close()


async def test_a_writer_with_a_backlog_is_stopped_when_its_peer_leaves(sqlite_url: str) -> None:
    server = LiveServer(sqlite_url, send_buffer=4096, batch_window_ms=0, max_batch=1)
    await server.start()
    try:
        assert server.store is not None
        await server.store.create_tenant("gone")
        reader, raw = await asyncio.open_connection("127.0.0.1", server.port, limit=1024)
        raw.transport.set_write_buffer_limits(0)
        sock = raw.get_extra_info("socket")
        raw.write(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        payload = _subscribe("gone").encode()
        raw.write(bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
        await raw.drain()
        deadline = time.monotonic() + 5
        while not server.live.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        (connection,) = server.live.connections
        writer = connection.writer
        # Stop reading, fill the pipe until the writer has a backlog and a drain task.
        reader._transport.pause_reading()  # type: ignore[attr-defined]
        async with ImageChatClient(server.url, "gone") as rest:
            await rest.guest_session("W")
            for i in range(200):
                await rest.create_chat("img", 1, 1, f"{i} " + "y" * 1500)
                if writer._drain is not None:
                    break
        assert writer._drain is not None, "no backlog built up"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        raw.transport.abort()  # the peer vanishes
        deadline = time.monotonic() + 10
        while server.live.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not server.live.connections
        assert writer.closed is not None and writer._drain is None
    finally:
        await server.close()


async def test_imagechat_serve_runs_the_class_on_uvloop_with_deflate(tmp_path: Path) -> None:
    """The real CLI (uvloop, httptools): a deflate client and a plain one both get events."""
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["IMAGECHAT_WRITE_RATE"] = "0"
    command = [
        sys.executable, "-m", "imagechat", "serve", "--demo", "--port", str(port),
        "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "--log-level", "warning",
    ]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                async with ImageChatClient(base, "demo") as probe:
                    await probe.list_chats("img")
                break
            except Exception:
                assert time.monotonic() < deadline, "imagechat serve did not start"
                await asyncio.sleep(0.2)
        ws_url = f"ws://127.0.0.1:{port}/ws"
        async with (
            ImageChatClient(base, "demo") as writer,
            websockets.connect(ws_url, compression="deflate") as deflated,
            websockets.connect(ws_url, compression=None) as plain,
        ):
            await writer.guest_session("W")
            for ws in (deflated, plain):
                await ws.send(_subscribe("demo"))
                assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "subscribed"
            assert [type(e).__name__ for e in deflated.protocol.extensions] == ["PerMessageDeflate"]
            made = await writer.create_chat("img", 1, 2, "over uvloop " * 10)
            for ws in (deflated, plain):
                while True:
                    event = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    if event["type"] != "presence":
                        break
                assert event["chat"] == made["chat"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
