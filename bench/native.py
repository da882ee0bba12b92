"""`python -m bench.native`: the native Gemini routes beside the direct floor and the chat route.

The same fake Gemini and the same loopback loader as `python -m bench`; for each scenario it
measures, at concurrency 1 (per-request overhead, not queueing):

- `direct`: the Gemini-shaped request straight to the fake (the floor);
- `native`: the same request through the gateway's native route (`/v1beta/models/...`), checked
  with the direct floor's expectations: the answer must be what the fake sent, byte for byte in
  size and content markers;
- `chat`: the OpenAI-shaped request through `/v1/chat/completions` (for comparison).

It reports p50/p99, the p50 added over direct, and the gateway's CPU per request and per MB of
answer (from /proc). The default image answer is ~5 MB (a 3.5 MB PNG in base64 plus a 400,000
character signature). Short by default (2 s per cell): numbers on a shared machine are noisy;
compare ratios from one run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load import run_python
from bench.payloads import Canned, FakeConfig, scenarios
from bench.procs import Child, free_port, wait_ready
from bench.verify import CHAT_PATH, load_expect

SCENARIOS = ("text", "imgout")


@dataclass(slots=True)
class Row:
    scenario: str
    target: str
    requests: int
    errors: int
    p50: float
    p99: float
    answer_bytes: int
    cpu_ms: float | None = None


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.native", description=__doc__)
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per cell (max 30)")
    ap.add_argument("--imgout-bytes", type=int, default=3_500_000, help="PNG bytes answered")
    ap.add_argument("--imgout-sig-bytes", type=int, default=300_000)
    args = ap.parse_args(argv)
    args.duration = max(0.5, min(args.duration, 30.0))
    return args


def _cell(
    port: int,
    path: str,
    body: bytes,
    name: str,
    canned: Canned,
    target: str,
    secs: float,
    gateway: Child,
) -> Row:
    """One closed-loop cell at concurrency 1, after a short warm-up; gateway CPU per request
    counted over the measured requests only."""
    expect = load_expect(name, canned, "direct" if target != "chat" else "gateway", True)
    run_python(port, path, body, expect, 1, min(0.5, secs))
    cpu0 = gateway.cpu_seconds()
    result = run_python(port, path, body, expect, 1, secs)
    cpu = gateway.cpu_seconds() - cpu0
    answer = len(canned.unary_image if name == "imgout" else canned.unary_text)
    row = Row(
        name, target, result.requests, result.errors + result.bad, result.p50, result.p99, answer
    )
    if target != "direct":
        row.cpu_ms = 1000 * cpu / max(1, result.requests)
    return row


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    config = FakeConfig(image_bytes=args.imgout_bytes, image_sig_bytes=args.imgout_sig_bytes)
    canned = Canned.build(config)
    chosen = {k: v for k, v in scenarios().items() if k in SCENARIOS}
    logs = Path(tempfile.mkdtemp(prefix="gw-bench-native-"))
    fake_port, gateway_port = free_port(), free_port()
    root = str(Path(__file__).resolve().parent.parent)
    fake = Child(
        "fake-upstream",
        [sys.executable, "-m", "bench.fake_upstream", f"--port={fake_port}", *config.as_args()],
        {"PYTHONPATH": root},
        logs / "fake.log",
    )
    gateway: Child | None = None
    rows: list[Row] = []
    try:
        wait_ready(fake, f"http://127.0.0.1:{fake_port}/bench/stats", None)
        env = {
            "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{fake_port}",
            "GEMINI_API_KEY": "bench-key",
            "GATEWAY_MAX_BODY_BYTES": str(256 * 1024 * 1024),
        }
        command = (
            f"{shlex.quote(sys.executable)} -m gateway serve --host 127.0.0.1 --port {gateway_port}"
        )
        gateway = Child("gateway", shlex.split(command), env, logs / "gateway.log")
        text = chosen["text"]
        wait_ready(gateway, f"http://127.0.0.1:{gateway_port}{text.gemini_path}", text.gemini_body)
        time.sleep(0.5)
        for name, scenario in chosen.items():
            cells = (
                ("direct", fake_port, scenario.gemini_path, scenario.gemini_body),
                ("native", gateway_port, scenario.gemini_path, scenario.gemini_body),
                ("chat", gateway_port, CHAT_PATH, scenario.openai_body),
            )
            for target, port, path, body in cells:
                row = _cell(port, path, body, name, canned, target, args.duration, gateway)
                rows.append(row)
                print(_line(row), flush=True)
    finally:
        if gateway is not None:
            gateway.stop()
        fake.stop()
    print(_table(rows))
    return 0


def _line(row: Row) -> str:
    cpu = f" cpu/req={row.cpu_ms:.2f}ms" if row.cpu_ms is not None else ""
    return (
        f"  {row.scenario:6} {row.target:6} n={row.requests:<5} errors={row.errors} "
        f"p50={row.p50:.2f}ms p99={row.p99:.2f}ms{cpu}"
    )


def _table(rows: list[Row]) -> str:
    direct = {r.scenario: r.p50 for r in rows if r.target == "direct"}
    lines = [
        "",
        "| scenario | route | p50 ms | added p50 ms | gateway CPU ms/req | CPU ms per MB out |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        added = "" if r.target == "direct" else f"{r.p50 - direct[r.scenario]:+.2f}"
        cpu = "" if r.cpu_ms is None else f"{r.cpu_ms:.2f}"
        large = (
            r.cpu_ms is not None and r.answer_bytes >= 1_000_000
        )  # per MB only means a lot there
        per_mb = f"{r.cpu_ms / (r.answer_bytes / 1e6):.2f}" if large and r.cpu_ms else ""
        lines.append(f"| {r.scenario} | {r.target} | {r.p50:.2f} | {added} | {cpu} | {per_mb} |")
    sizes = {r.scenario: r.answer_bytes for r in rows}
    lines.append("answer bytes (Gemini's): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
