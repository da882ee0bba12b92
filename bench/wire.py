"""A minimal HTTP/1.1 client over asyncio streams, for the Python load generator and the
time-to-first-event probe: keep-alive, Content-Length and chunked bodies, and the moment the
first SSE `data:` line arrived. Small on purpose, so the client costs little next to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

MAX_BODY = 256 * 1024 * 1024
MAX_CHUNKS = 1 << 20


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    seconds: float  # request sent → body complete
    first_event: float | None  # request sent → first `data:` seen (streams only)


def build_request(path: str, body: bytes, auth: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if auth:
        head += f"Authorization: {auth}\r\n"
    head += "\r\n"
    return head.encode("ascii") + body


class Connection:
    """One keep-alive connection to 127.0.0.1:port; `exchange` sends a prebuilt request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, limit=1 << 20
        )

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def exchange(self, request: bytes, watch_events: bool = False) -> Reply:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        started = time.perf_counter()
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, length, chunked, closing = _parse_head(head)
        first: float | None = None
        if chunked:
            pieces: list[bytes] = []
            size = 0
            for _ in range(MAX_CHUNKS):
                line = await self.reader.readuntil(b"\r\n")
                n = int(line.split(b";", 1)[0], 16)
                data = await self.reader.readexactly(n + 2)
                if n == 0:
                    break
                if watch_events and first is None and b"data:" in data:
                    first = time.perf_counter() - started
                pieces.append(data[:-2])
                size += n
                if size > MAX_BODY:
                    raise ValueError("response body too large for the bench client")
            body = b"".join(pieces)
        else:
            body = await self.reader.readexactly(length) if length else b""
            if watch_events and b"data:" in body:
                first = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        if closing:
            await self.close()
        return Reply(status, body, elapsed, first)


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = closing = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            closing = True
    return status, length, chunked, closing
