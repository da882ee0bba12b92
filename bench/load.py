"""Closed-loop load on loopback, bounded by time and request count: wrk when it is installed
(the client then costs least), else a Python asyncio fallback. Both check every response
against the same `Expect` (status, size, markers, SSE event count)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.wire import Connection, Reply, build_request

LUA = Path(__file__).with_name("wrk_check.lua")
MAX_SECONDS = 60.0
MAX_REQUESTS = 1_000_000


@dataclass(frozen=True, slots=True)
class Expect:
    """What every response must show: status 200, a minimum size, markers, its last bytes, and
    with `events` > 0 exactly that many `data:` lines."""

    markers: tuple[bytes, ...] = ()
    min_bytes: int = 0
    events: int = 0
    ends_with: bytes = b""

    def accepts(self, status: int, body: bytes) -> bool:
        if status != 200 or len(body) < self.min_bytes or not body.endswith(self.ends_with):
            return False
        if any(marker not in body for marker in self.markers):
            return False
        return not self.events or body.count(b"data:") == self.events


@dataclass(slots=True)
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0  # transport errors and non-2xx
    bad: int = 0  # 200 but the body failed the check
    p50: float = 0.0  # milliseconds
    p90: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    tool: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _pinned(argv: list[str], cpus: str | None) -> list[str]:
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus, *argv]
    return argv


def run_wrk(
    port: int,
    path: str,
    body: bytes,
    expect: Expect,
    conc: int,
    seconds: float,
    cpus: str | None = None,
    auth: str = "",
) -> LoadResult:
    seconds = min(seconds, MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        body_file = Path(tmp, "body.json")
        body_file.write_bytes(body)
        expect_file = Path(tmp, "expect.txt")
        expect_file.write_bytes(b"\n".join(expect.markers))
        env = {
            **os.environ,
            "BENCH_BODY": str(body_file),
            "BENCH_EXPECT_FILE": str(expect_file),
            "BENCH_MIN_BYTES": str(expect.min_bytes),
            "BENCH_EVENTS": str(expect.events),
            "BENCH_ENDS_WITH": expect.ends_with.decode(),
            "BENCH_AUTH": auth,
        }
        argv = ["wrk", "-t1", f"-c{conc}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
        argv += ["-s", str(LUA), f"http://127.0.0.1:{port}{path}"]
        out = subprocess.run(
            _pinned(argv, cpus), env=env, capture_output=True, text=True, timeout=seconds + 60
        )
    found = re.search(r"^BENCHWRK (.*)$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk failed: {out.stdout[-800:]} {out.stderr[-800:]}")
    data = orjson.loads(found.group(1))
    return LoadResult(
        requests=data["requests"],
        seconds=data["seconds"],
        errors=data["errors"],
        bad=data["bad"],
        p50=data["p50"],
        p90=data["p90"],
        p99=data["p99"],
        max=data["max"],
        tool="wrk",
    )


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _python_load(
    port: int, request: bytes, expect: Expect, conc: int, seconds: float, max_requests: int
) -> LoadResult:
    result = LoadResult(tool="python")
    latencies: list[float] = []
    deadline = time.perf_counter() + min(seconds, MAX_SECONDS)
    budget = min(max_requests, MAX_REQUESTS)

    async def worker() -> None:
        nonlocal budget
        conn = Connection(port)
        try:
            while budget > 0 and time.perf_counter() < deadline:
                budget -= 1
                try:
                    reply = await conn.exchange(request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.errors += 1
                    await conn.close()
                    continue
                result.requests += 1
                latencies.append(reply.seconds * 1000)
                if reply.status >= 300:
                    result.errors += 1
                elif not expect.accepts(reply.status, reply.body):
                    result.bad += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    result.seconds = time.perf_counter() - started
    result.p50, result.p90 = percentile(latencies, 50), percentile(latencies, 90)
    result.p99, result.max = percentile(latencies, 99), max(latencies, default=0.0)
    return result


def run_python(
    port: int,
    path: str,
    body: bytes,
    expect: Expect,
    conc: int,
    seconds: float,
    max_requests: int = MAX_REQUESTS,
    auth: str = "",
) -> LoadResult:
    return asyncio.run(
        _python_load(port, build_request(path, body, auth), expect, conc, seconds, max_requests)
    )


@dataclass(slots=True)
class ProbeResult:
    ok: int = 0
    errors: int = 0
    events: list[int] = field(default_factory=list)
    first_event_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)


async def _probe(
    port: int, request: bytes, expect: Expect, count: int, seconds: float
) -> ProbeResult:
    result = ProbeResult()
    conn = Connection(port)
    deadline = time.perf_counter() + min(seconds, MAX_SECONDS)
    try:
        for _ in range(min(count, 100_000)):
            if time.perf_counter() > deadline:
                break
            try:
                reply: Reply = await conn.exchange(request, watch_events=True)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                await conn.close()
                continue
            if reply.first_event is None or not expect.accepts(reply.status, reply.body):
                result.errors += 1
                continue
            result.ok += 1
            result.events.append(reply.body.count(b"data:"))
            result.first_event_ms.append(reply.first_event * 1000)
            result.total_ms.append(reply.seconds * 1000)
    finally:
        await conn.close()
    return result


def probe_stream(
    port: int, path: str, body: bytes, expect: Expect, count: int, seconds: float, auth: str = ""
) -> ProbeResult:
    """Sequential streams (concurrency 1): time to the first `data:` line and to the end."""
    return asyncio.run(_probe(port, build_request(path, body, auth), expect, count, seconds))
