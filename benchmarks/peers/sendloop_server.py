"""Floor: the least a Python server on one core can do to fan a message out over WebSockets.

No library, no per-connection state beyond the transport: a bare asyncio Protocol on uvloop
answers the WebSocket handshake, answers `{"type":"subscribe",...}` with `{"type":"subscribed"}`
and adds the connection to a list. Every text message of the publisher (connected to /publish)
is framed once and written as is to each subscriber's transport in a plain loop. What this
takes per delivery is the send system call and the loopback work under it, plus one Python
iteration: no WebSocket server can fan out faster on this core, which makes it the floor the
benchmark reads the others against.

It handles what the benchmark's clients send (masked, unfragmented frames under 64 KiB; a close
frame closes) and nothing more: it is a measuring stick, not a server.

    python benchmarks/peers/sendloop_server.py --port 9002
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

from peer_cli import serve_on_uvloop

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBSCRIBED = b'{"type":"subscribed","tenantId":"bench","urlId":"img"}'
SUBSCRIBERS: list[asyncio.Transport] = []


def server_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


class Peer(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.open = False
        self.publisher = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport in SUBSCRIBERS:
            SUBSCRIBERS.remove(self.transport)

    def data_received(self, data: bytes) -> None:
        data = self.buf + data
        if not self.open:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            self._handshake(data[:end])
            data = data[end + 4 :]
        pos = 0
        while len(data) - pos >= 6:
            opcode = data[pos] & 0x0F
            n = data[pos + 1] & 0x7F
            start = pos + 2
            if n >= 126:
                size = 2 if n == 126 else 8
                if len(data) < start + size:
                    break
                n = int.from_bytes(data[start : start + size], "big")
                start += size
            if len(data) < start + 4 + n:
                break
            payload = unmask(data[start + 4 : start + 4 + n], data[start : start + 4])
            pos = start + 4 + n
            self._message(opcode, payload)
        self.buf = data[pos:]

    def _handshake(self, head: bytes) -> None:
        assert self.transport is not None
        lines = head.split(b"\r\n")
        self.publisher = lines[0].split(b" ")[1].startswith(b"/publish")
        key = b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self.open = True

    def _message(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 8:
            self.transport.close()
        elif opcode != 1:
            return
        elif self.publisher:
            frame = server_frame(payload)
            for transport in SUBSCRIBERS:
                transport.write(frame)
        elif b'"type":"subscribe"' in payload:
            SUBSCRIBERS.append(self.transport)
            self.transport.write(server_frame(SUBSCRIBED))


async def run(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Peer, host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    serve_on_uvloop(__doc__, run)


if __name__ == "__main__":
    main()
