#!/usr/bin/env python3
"""Bounded loopback soak (reliability-security.md §6 L1, the short form). Not part of CI.

Starts the emulator and the gateway as two uvicorn processes on 127.0.0.1, then drives mixed
traffic at the gateway for a fixed time: text and image chats, streamed and not, image edits
that send the previous turn back, with about 1% of requests carrying an injected upstream fault
(`#fault=<kind>` in the prompt). Prints what was served, errors by kind (expected ones from an
injected fault apart from unexpected ones), and the gateway's RSS over the run.

    .venv/bin/python scripts/soak.py --seconds 120 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 600
MAX_REQUESTS = 200_000
TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-3-pro-image-preview"
# kind → what a client should see; faults on every attempt (the directive is in the body)
FAULTS = [
    "status:429",
    "status:500",
    "status:503",
    "html502",
    "truncate",
    "malformed",
    "no_finish",
    "wrong_content_type",
    "slow_first:300",
    "delay:200",
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    """VmRSS of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Tally:
    served: Counter[str] = field(default_factory=Counter)
    expected_errors: Counter[str] = field(default_factory=Counter)
    unexpected_errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.served.values())


def sse_outcome(body: bytes) -> str | None:
    """None for a clean stream; otherwise what went wrong, by kind."""
    if not body.endswith(b"data: [DONE]\n\n"):
        return "stream_without_done"
    if b'data: {"error"' in body:
        start = body.rindex(b'data: {"error"')
        code = body[start:].split(b'"code":', 1)[1].split(b"}", 1)[0].strip(b'" ')
        return f"stream_error:{code.decode(errors='replace')}"
    return None


async def one_call(
    http: httpx.AsyncClient, rng: random.Random, tally: Tally, fault_rate: float
) -> None:
    kind = rng.choices(["text", "image", "edit"], weights=[6, 3, 1])[0]
    stream = rng.random() < 0.5
    fault = rng.choice(FAULTS) if rng.random() < fault_rate else None
    text = f"soak {rng.randrange(10**9)}" + (f" #fault={fault}" if fault else "")
    model = TEXT_MODEL if kind == "text" else IMAGE_MODEL
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    if kind == "edit":
        first = await http.post(
            "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "draw a lighthouse"}]},
        )
        if first.status_code != 200:
            tally.unexpected_errors[f"edit_first:{first.status_code}"] += 1
            return
        messages = [
            {"role": "user", "content": "draw a lighthouse"},
            first.json()["choices"][0]["message"],
            *messages,
        ]
    label = f"{kind}{'_stream' if stream else ''}"
    started = time.perf_counter()
    try:
        response = await http.post(
            "/v1/chat/completions", json={"model": model, "messages": messages, "stream": stream}
        )
    except httpx.HTTPError as exc:
        (tally.expected_errors if fault else tally.unexpected_errors)[type(exc).__name__] += 1
        return
    tally.latencies.append(time.perf_counter() - started)
    problem: str | None = None
    if response.status_code != 200:
        code = response.json().get("error", {}).get("code") if response.content else None
        problem = f"{response.status_code}:{code}"
    elif stream:
        problem = sse_outcome(response.content)
    if problem is None:
        tally.served[label] += 1
        # slow, relabelled and (unary) finish-less answers are still whole answers
        harmless = {"slow_first", "delay", "wrong_content_type"}
        if not stream:
            harmless.add("no_finish")
        if fault and fault.split(":")[0] not in harmless:
            tally.unexpected_errors[f"fault_{fault}_not_reported"] += 1
        return
    (tally.expected_errors if fault else tally.unexpected_errors)[
        f"{problem} ({fault})" if fault else problem
    ] += 1


async def drive(
    base: str,
    gateway_pid: int,
    seconds: float,
    concurrency: int,
    fault_rate: float,
    max_requests: int,
    seed: int,
) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def worker(index: int) -> None:
            nonlocal issued
            rng = random.Random(seed * 1000 + index)
            while time.monotonic() < deadline and issued < max_requests:
                issued += 1
                await one_call(http, rng, tally, fault_rate)

        async def sampler() -> None:
            while time.monotonic() < deadline:
                tally.rss.append((time.monotonic() - started, rss_kib(gateway_pid)))
                await asyncio.sleep(min(10.0, max(deadline - time.monotonic(), 0.1)))

        await asyncio.gather(sampler(), *(worker(i) for i in range(concurrency)))
    tally.rss.append((time.monotonic() - started, rss_kib(gateway_pid)))
    return tally


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):  # bounded: ~20 s
        if process.poll() is not None:
            raise SystemExit(f"a server exited early (code {process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def report(tally: Tally, seconds: float, gateway_log: Path) -> None:
    latencies = sorted(tally.latencies)

    def pct(p: float) -> float:
        return (
            latencies[min(int(p * len(latencies)), len(latencies) - 1)] * 1000 if latencies else 0
        )

    say(f"requests served ok: {tally.total} in {seconds:.0f} s ({tally.total / seconds:.1f}/s)")
    for label, count in sorted(tally.served.items()):
        say(f"  {label:<14} {count}")
    say(f"latency ms: p50 {pct(0.5):.1f}  p99 {pct(0.99):.1f}  max {pct(1.0):.1f}")
    say(f"errors from injected faults (expected): {sum(tally.expected_errors.values())}")
    for kind, count in tally.expected_errors.most_common():
        say(f"  {count:>5} × {kind}")
    say(f"unexpected errors: {sum(tally.unexpected_errors.values())}")
    for kind, count in tally.unexpected_errors.most_common():
        say(f"  {count:>5} × {kind}")
    text = gateway_log.read_text(errors="replace")
    say(
        f"gateway log: {text.count('unhandled error')} unhandled-error lines, "
        f"{text.count('Traceback')} tracebacks"
    )
    if tally.rss:
        first, last, peak = tally.rss[0][1], tally.rss[-1][1], max(k for _, k in tally.rss)
        say(
            f"gateway RSS: start {first / 1024:.1f} MiB, end {last / 1024:.1f} MiB, "
            f"peak {peak / 1024:.1f} MiB, samples "
            + " ".join(f"{t:.0f}s:{k / 1024:.0f}" for t, k in tally.rss)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra gateway setting, e.g. GATEWAY_STATE_MAX_BYTES=8388608 (repeatable)",
    )
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), MAX_SECONDS)
    max_requests = min(args.max_requests, MAX_REQUESTS)
    emulator_port, gateway_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GATEWAY_", "GOOGLE_"))
    }
    env.update(
        GOOGLE_GEMINI_BASE_URL=f"http://127.0.0.1:{emulator_port}",
        GEMINI_API_KEY="soak-key",
        GATEWAY_LOG_LEVEL="warning",
        GATEWAY_READ_TIMEOUT="10",
        GATEWAY_KEEPALIVE_INTERVAL="1",
    )
    env.update(item.split("=", 1) for item in args.env if "=" in item)
    with tempfile.TemporaryDirectory() as tmp:
        gateway_log = Path(tmp) / "gateway.log"
        emulator = start(["emulator", "--port", str(emulator_port)], env, Path(tmp) / "emu.log")
        gateway = start(["serve", "--port", str(gateway_port)], env, gateway_log)
        try:
            wait_healthy(f"http://127.0.0.1:{emulator_port}/_emulator/stats", emulator)
            wait_healthy(f"http://127.0.0.1:{gateway_port}/healthz", gateway)
            say(
                f"soak: {seconds:.0f} s, {args.concurrency} workers, "
                f"{args.fault_rate:.1%} injected faults, gateway pid {gateway.pid}"
            )
            started = time.monotonic()
            tally = asyncio.run(
                drive(
                    f"http://127.0.0.1:{gateway_port}",
                    gateway.pid,
                    seconds,
                    args.concurrency,
                    args.fault_rate,
                    max_requests,
                    args.seed,
                )
            )
            report(tally, time.monotonic() - started, gateway_log)
        finally:
            for process in (gateway, emulator):
                process.send_signal(signal.SIGTERM)
            for process in (gateway, emulator):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0 if not tally.unexpected_errors else 1


if __name__ == "__main__":
    sys.exit(main())
