"""`imagechat serve --ssl-certfile F --ssl-keyfile K` speaks HTTPS and WSS: a self-signed
certificate made here, a real server process, a subscription over wss:// that sees a write
made over https://."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from tests.conftest import missing_service

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        missing_service("openssl is needed to make a test certificate")
    assert openssl is not None
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    env["PYTHONPATH"] = str(REPO / "src")
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "imagechat", "serve", "--demo", "--port", str(port),
            "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'tls.db'}",
            "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


async def test_https_and_wss_with_a_self_signed_certificate(
    tls_server: str, certificate: tuple[Path, Path]
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    async with httpx.AsyncClient(base_url=f"https://{tls_server}", verify=trust) as http:
        deadline = time.monotonic() + 30
        while (await http.get("/healthz")).status_code != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        session = await http.post("/api/v1/demo/sessions", json={"guest": {"name": "T"}})
        token = session.json()["token"]
        async with websockets.connect(f"wss://{tls_server}/ws", ssl=trust) as ws:
            await ws.send(orjson.dumps({"type": "subscribe", "tenantId": "demo", "urlId": "tls"}))
            subscribed = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert subscribed["type"] == "subscribed"
            made = await http.post(
                "/api/v1/demo/chats",
                json={
                    "urlId": "tls",
                    "x": 5,
                    "y": 5,
                    "comment": "over TLS",
                    "broadcastId": str(uuid.uuid4()),
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert made.status_code == 201, made.text
            while True:
                frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                frames = frame if isinstance(frame, list) else [frame]
                events = [f for f in frames if f["type"] == "new-image-chat"]
                if events:
                    break
            assert events[0]["comment"]["body"] == "over TLS"
    # Plain HTTP on the TLS port gets nowhere; a client that does not trust the certificate
    # refuses it.
    with pytest.raises(httpx.HTTPError):
        async with httpx.AsyncClient() as plain:
            await plain.get(f"http://{tls_server}/healthz", timeout=5)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as untrusting:
            await untrusting.get(f"https://{tls_server}/healthz", timeout=5)
