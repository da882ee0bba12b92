"""Loopback abuse run (issue 13): replays the black-box probes against a real gateway process
and prints what the gateway did, with its resident memory before and after. Not part of CI.

    .venv/bin/python scripts/abuse.py            # ~1-2 minutes, loopback only

A fake Gemini on 127.0.0.1 answers small JSON, or (for the last probe) a 2 GB answer made on the
fly. Every probe is bounded in count and time: a hang shows up as "still open after N s"."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
PROBE_LIMIT = 60.0  # seconds any one probe may take
HUGE_ANSWER = 2 * 1024**3
SMALL_ANSWER = orjson.dumps(
    {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
    }
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the fake Gemini ---------------------------------------------------------------------------


async def fake_gemini(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """HTTP/1.1 just enough for the gateway's client: reads one request, answers, closes."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        if b"HUGE-ANSWER" in body:
            await huge_answer(writer)
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(SMALL_ANSWER), SMALL_ANSWER)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def huge_answer(writer: asyncio.StreamWriter) -> None:
    """2 GB of one JSON answer whose text never ends, made on the fly (never held here), with
    no declared length (a declared one is refused unread)."""
    writer.write(  # no length: the body runs until the connection closes
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
    )
    opening = b'{"candidates":[{"content":{"role":"model","parts":[{"text":"'
    writer.write(opening)
    piece = b"a" * (1024 * 1024)
    sent = len(opening)
    while sent + len(piece) <= HUGE_ANSWER:
        writer.write(piece)
        sent += len(piece)
        await writer.drain()  # raises once the gateway hangs up


# -- the gateway process -----------------------------------------------------------------------


class Gateway:
    def __init__(self, upstream_port: int) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "GEMINI_"))}
        env.update(
            GEMINI_API_KEY="abuse-run-fake-key",
            GOOGLE_GEMINI_BASE_URL=f"http://127.0.0.1:{upstream_port}",
            GATEWAY_LOG_LEVEL="error",
            GATEWAY_FETCH_IMAGES="false",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def rss(self) -> float:
        return rss_mb(self.process.pid)

    async def started(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = await request(self.port, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                await asyncio.sleep(0.1)
        raise SystemExit("the gateway did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def request(
    port: int, method: str, path: str, body: bytes = b"", limit: float = PROBE_LIMIT
) -> tuple[int, bytes]:
    """One request on a fresh connection; (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), limit)
    finally:
        writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    return status, raw.partition(b"\r\n\r\n")[2]


def chat(messages: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"model": "gemini-2.5-flash", "messages": messages})


def error_code(body: bytes) -> str:
    try:
        return str(orjson.loads(body)["error"]["code"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return body[:60].decode(errors="replace")


# -- the probes ---------------------------------------------------------------------------------


async def same_role_messages(gw: Gateway) -> str:
    """100,000 one-character user messages, with /healthz timed every 50 ms meanwhile."""
    body = chat([{"role": "user", "content": "x"} for _ in range(100_000)])
    worst = 0.0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal worst
        while not done.is_set():
            started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await request(gw.port, "GET", "/healthz")
            worst = max(worst, time.perf_counter() - started)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    try:
        status, answer = await request(gw.port, "POST", "/v1/chat/completions", body)
        outcome = f"{status} {error_code(answer) if status != 200 else ''}"
    except TimeoutError:
        outcome = f"no answer within {PROBE_LIMIT:.0f} s"
    elapsed = time.perf_counter() - started
    done.set()
    await watcher
    return (
        f"{len(body) / 1e6:.1f} MB body -> {outcome} in {elapsed:.2f} s; "
        f"slowest /healthz meanwhile {worst * 1000:.0f} ms"
    )


async def stalled_uploads(gw: Gateway) -> str:
    """12 connections announce 1.5 MB and send half of it; then an honest 1.5 MB request."""
    honest = chat([{"role": "user", "content": "y" * 1_500_000}])
    stalled = []
    for _ in range(12):
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n"
            b"content-type: application/json\r\ncontent-length: %d\r\n\r\n"
            % len(honest)
            + honest[: len(honest) // 2]
        )
        await writer.drain()
        stalled.append((reader, writer))
    await asyncio.sleep(1.0)  # every stalled upload is now "slow"
    started = time.perf_counter()
    try:
        status, _ = await request(gw.port, "POST", "/v1/chat/completions", honest, 40)
        result = f"honest 1.5 MB request -> {status} in {time.perf_counter() - started:.2f} s"
    except TimeoutError:
        result = "honest 1.5 MB request still waiting after 40 s"
    ends = await asyncio.gather(*(ended(r, PROBE_LIMIT) for r, _ in stalled))
    for _, writer in stalled:
        writer.close()
    return f"{result}; the 12 stalled uploads: {summary(ends)}"


async def ended(reader: asyncio.StreamReader, limit: float) -> str:
    started = time.perf_counter()
    try:
        raw = await asyncio.wait_for(reader.read(), limit)
    except TimeoutError:
        return f"still open after {limit:.0f} s"
    status = raw.split(b" ", 2)[1].decode() if raw.startswith(b"HTTP/") else "closed"
    return f"{status} after {time.perf_counter() - started:.0f} s"


def summary(results: list[str]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        counts[result] = counts.get(result, 0) + 1
    return ", ".join(f"{n} x {result}" for result, n in counts.items())


async def trickled_headers(gw: Gateway) -> str:
    """One header byte every 0.5 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    started = time.perf_counter()
    head = b"GET /healthz HTTP/1.1\r\nhost: gateway\r\nx-slow: " + b"a" * 1000 + b"\r\n\r\n"
    reading = asyncio.create_task(reader.read())
    sent = 0
    try:
        for byte in head:
            if reading.done() or time.perf_counter() - started > PROBE_LIMIT:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            await asyncio.sleep(0.5)
    except ConnectionError:
        pass
    try:
        raw = await asyncio.wait_for(reading, 5)
    except TimeoutError:
        writer.close()
        return f"still open after {time.perf_counter() - started:.0f} s ({sent} bytes sent)"
    writer.close()
    status = raw.split(b" ", 2)[1].decode() if raw.startswith(b"HTTP/") else "closed"
    return f"{status} after {time.perf_counter() - started:.1f} s ({sent} header bytes sent)"


async def idle_connection(gw: Gateway) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    result = await ended(reader, PROBE_LIMIT)
    writer.close()
    return f"a connection that sends nothing: {result}"


async def huge_upstream_answer(gw: Gateway) -> str:
    """Gemini answers 2 GB; RSS sampled every 50 ms meanwhile."""
    peak = gw.rss
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, gw.rss)
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    status, answer = await request(
        gw.port, "POST", "/v1/chat/completions", chat([{"role": "user", "content": "HUGE-ANSWER"}])
    )
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    await asyncio.sleep(3)  # the idle trim runs after a second without requests
    return (
        f"{status} {error_code(answer)} in {elapsed:.2f} s; RSS peak {peak:.0f} MB, "
        f"{gw.rss:.0f} MB 3 s later"
    )


PROBES: list[tuple[str, Callable[[Gateway], Awaitable[str]]]] = [
    ("100k same-role messages", same_role_messages),
    ("12 stalled large uploads", stalled_uploads),
    ("trickled headers", trickled_headers),
    ("idle connection", idle_connection),
    ("2 GB upstream answer", huge_upstream_answer),
]


async def main() -> None:
    upstream = await asyncio.start_server(fake_gemini, "127.0.0.1", 0)
    gw = Gateway(upstream.sockets[0].getsockname()[1])
    try:
        await gw.started()
        print(f"gateway pid {gw.process.pid}: RSS {gw.rss:.0f} MB at start")  # noqa: T201
        for name, probe in PROBES:
            before = gw.rss
            try:
                outcome = await asyncio.wait_for(probe(gw), 3 * PROBE_LIMIT)
            except TimeoutError:
                outcome = f"the probe itself ran past {3 * PROBE_LIMIT:.0f} s"
            print(f"- {name}: {outcome} (RSS {before:.0f} -> {gw.rss:.0f} MB)")  # noqa: T201
        status, _ = await request(gw.port, "GET", "/healthz")
        print(f"afterwards /healthz {status}; RSS {gw.rss:.0f} MB")  # noqa: T201
    finally:
        gw.stop()
        upstream.close()


if __name__ == "__main__":
    asyncio.run(main())
