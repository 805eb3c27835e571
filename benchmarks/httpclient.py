"""A lean HTTP/1.1 client for the benchmarks: what a browser's keep-alive connection does,
without a client library's own CPU in the numbers (httpx costs about 2 ms per request)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any


class Http:
    """One keep-alive HTTP/1.1 connection that sends prebuilt requests, one at a time."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: dict[str, Any], token: str = ""
    ) -> tuple[int, bytes]:
        if self.reader is None or self.reader.at_eof():
            # New, or closed by the server while idle (its keep-alive timeout): as a browser
            # does, open a fresh connection rather than write into one that is gone.
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.writer is not None
        data = json.dumps(body).encode()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
