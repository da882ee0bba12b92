"""`python -m bench`: fake upstream → direct floor → the gateway (→ optional peers), then the
tables and the targets. Loopback only; every cell is bounded by --duration and every process
it starts is stopped by its own process group."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import orjson

from bench.load import (
    Expect,
    LoadResult,
    ProbeResult,
    probe_stream,
    run_python,
    run_wrk,
    wrk_available,
)
from bench.payloads import Canned, FakeConfig, Scenario, scenarios
from bench.procs import Child, RssSampler, free_port, wait_ready
from bench.report import render
from bench.verify import CHAT_PATH, LoopbackUpstream, Verdict, load_expect
from bench.verify import verify_direct as _verify_direct
from bench.verify import verify_gateway as _verify_gateway

GATEWAY_CMD = f"{shlex.quote(sys.executable)} -m gateway serve --host 127.0.0.1 --port {{port}}"
SETTLE_SECONDS = 2.0


@dataclass(slots=True)
class Cell:
    target: str
    scenario: str
    conc: int
    load: LoadResult
    hits: int
    cpu_ms_per_req: float | None = None
    peak_rss: int | None = None


@dataclass(slots=True)
class TargetRun:
    name: str
    command: str = ""
    ready_s: float | None = None
    idle_rss: int | None = None
    hwm: int | None = None
    verify: dict[str, Verdict] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    probe: ProbeResult | None = None
    settled_rss: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Bench:
    args: argparse.Namespace
    scenarios: dict[str, Scenario]
    canned: Canned
    upstream_port: int
    log_dir: Path
    runs: list[list[TargetRun]] = field(default_factory=list)

    @property
    def upstream_url(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}"

    def load(
        self, port: int, path: str, body: bytes, expect: Expect, conc: int, secs: float
    ) -> LoadResult:
        auth = "" if port == self.upstream_port else self.args.auth
        if self.args.loader == "wrk":
            return run_wrk(port, path, body, expect, conc, secs, self.args.client_cpus, auth)
        return run_python(port, path, body, expect, conc, secs, auth=auth)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per cell (max 60)")
    ap.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up seconds per scenario (max 10)"
    )
    ap.add_argument("--conc", default="1,16", help="concurrency levels, comma-separated")
    ap.add_argument("--scenarios", default="text,stream,img4,imgout")
    ap.add_argument("--images", type=int, default=4, help="images in the img4 request")
    ap.add_argument("--image-bytes", type=int, default=1 << 20, help="raw bytes of each image in")
    ap.add_argument(
        "--imgout-bytes", type=int, default=2_000_000, help="PNG bytes the fake returns"
    )
    ap.add_argument("--imgout-sig-bytes", type=int, default=300_000, help="its signature, decoded")
    ap.add_argument("--sse-events", type=int, default=20)
    ap.add_argument("--probe", type=int, default=300, help="sequential streams for TTFE (max 5000)")
    ap.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument(
        "--gateway", default=GATEWAY_CMD, help="command; {port} and {upstream} filled in"
    )
    ap.add_argument("--peer", action="append", default=[], help="NAME=COMMAND, measured beside")
    ap.add_argument("--peer-env", action="append", default=[], help="NAME:VAR=VALUE")
    ap.add_argument("--auth", default="Bearer sk-bench-1234", help="Authorization sent to gateways")
    ap.add_argument("--upstream-port", type=int, default=0, help="fixed port for the fake (0: any)")
    ap.add_argument("--gateway-cpus", default="auto", help="CPU list for the gateway, or 'none'")
    ap.add_argument("--client-cpus", default="auto", help="CPU list for fake + load, or 'none'")
    ap.add_argument(
        "--repeat", type=int, default=1, help="whole runs (max 3); targets use the worst"
    )
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--no-direct", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.duration = max(1.0, min(args.duration, 60.0))
    args.warmup = max(0.0, min(args.warmup, 10.0))
    args.conc = [max(1, min(int(c), 256)) for c in args.conc.split(",") if c]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.probe = max(0, min(args.probe, 5000))
    args.repeat = max(1, min(args.repeat, 3))
    if args.loader == "auto":
        args.loader = "wrk" if wrk_available() else "python"
    cpus = os.cpu_count() or 1
    for name, default in (("gateway_cpus", "1"), ("client_cpus", "0")):
        value = getattr(args, name)
        if value == "auto":
            value = default if cpus >= 2 and hasattr(os, "sched_setaffinity") else "none"
        setattr(args, name, None if value == "none" else value)
    return args


def _measure(bench: Bench, run: TargetRun, port: int, child: Child | None) -> None:
    direct = run.name == "direct"
    strict = run.name in {"direct", "gateway"}
    for name in bench.args.scenarios:
        scenario = bench.scenarios[name]
        path = scenario.gemini_path if direct else scenario.path
        body = scenario.gemini_body if direct else scenario.openai_body
        expect = load_expect(name, bench.canned, "direct" if direct else run.name, strict)
        if bench.args.warmup:
            bench.load(port, path, body, expect, 4, bench.args.warmup)
        for conc in bench.args.conc:
            hits0 = _quiet_hits(bench)
            cpu0 = child.cpu_seconds() if child else 0.0
            sampler = RssSampler(child) if child else None
            if sampler:
                sampler.start()
            result = bench.load(port, path, body, expect, conc, bench.args.duration)
            cell = Cell(run.name, name, conc, result, _quiet_hits(bench) - hits0)
            if child and sampler:
                cell.peak_rss = sampler.finish()
                cell.cpu_ms_per_req = 1000 * (child.cpu_seconds() - cpu0) / max(1, cell.hits)
            run.cells.append(cell)
            print(_progress(cell), flush=True)
        if child:
            time.sleep(SETTLE_SECONDS)
            run.settled_rss[name] = child.rss()
    streams = [s for s in ("stream", "rstream") if s in bench.args.scenarios]
    if streams and bench.args.probe:
        scenario = bench.scenarios[streams[0]]  # the chat stream when both are measured
        expect = load_expect(streams[0], bench.canned, "direct" if direct else run.name, strict)
        run.probe = probe_stream(
            port,
            scenario.gemini_path if direct else scenario.path,
            scenario.gemini_body if direct else scenario.openai_body,
            expect,
            bench.args.probe,
            max(2.0, bench.args.duration),
            "" if direct else bench.args.auth,
        )
    if child:
        run.hwm = child.hwm()


def _progress(cell: Cell) -> str:
    r = cell.load
    extra = f" cpu/req={cell.cpu_ms_per_req:.2f}ms" if cell.cpu_ms_per_req is not None else ""
    return (
        f"  {cell.target:10} {cell.scenario:6} c={cell.conc:<3} rps={r.rps:9.1f} "
        f"p50={r.p50:8.2f}ms errors={r.errors} bad={r.bad} hits={cell.hits}{extra}"
    )


def _quiet_hits(bench: Bench) -> int:
    """The hit count once requests still in flight from the last run have landed."""
    last = _hits(bench)
    for _ in range(100):  # at most ~5 s
        time.sleep(0.05)
        now = _hits(bench)
        if now == last:
            return now
        last = now
    return last


def _hits(bench: Bench) -> int:
    response = httpx.get(f"{bench.upstream_url}/bench/stats", timeout=10, trust_env=False)
    return int(response.json()["hits"])


async def _verify(bench: Bench, base: str | None, strict: bool) -> dict[str, Verdict]:
    chosen = {k: v for k, v in bench.scenarios.items() if k in bench.args.scenarios}
    async with (
        httpx.AsyncClient(base_url=bench.upstream_url, timeout=30, trust_env=False) as control,
        httpx.AsyncClient(
            base_url=base or bench.upstream_url,
            timeout=60,
            trust_env=False,
            headers={"authorization": bench.args.auth} if base and bench.args.auth else {},
        ) as client,
    ):
        upstream = LoopbackUpstream(control)
        if base is None:
            return await _verify_direct(client, upstream, chosen, bench.canned)
        return await _verify_gateway(client, upstream, chosen, bench.canned, strict)


def _run_target(bench: Bench, name: str, command: str, env: dict[str, str]) -> TargetRun:
    port = free_port()
    command = command.replace("{port}", str(port)).replace("{upstream}", bench.upstream_url)
    run = TargetRun(name, command)
    print(f"== {name}: {command}", flush=True)
    child = Child(
        name, shlex.split(command), env, bench.log_dir / f"{name}.log", bench.args.gateway_cpus
    )
    try:
        text = bench.scenarios["text"].openai_body
        run.ready_s = wait_ready(
            child, f"http://127.0.0.1:{port}{CHAT_PATH}", text, auth=bench.args.auth
        )
        time.sleep(1.0)
        run.idle_rss = child.rss()
        run.verify = asyncio.run(_verify(bench, f"http://127.0.0.1:{port}", name == "gateway"))
        for scenario, verdict in run.verify.items():
            print(
                f"  verify {scenario}: {'OK' if verdict.ok else 'FAIL'} {verdict.detail}",
                flush=True,
            )
        _measure(bench, run, port, child)
    finally:
        child.stop()
    return run


def _env_for(bench: Bench, name: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in bench.args.peer_env:
        peer, _, assignment = item.partition(":")
        var, _, value = assignment.partition("=")
        if peer == name:
            env[var] = value.replace("{upstream}", bench.upstream_url)
    return env


def _one_run(bench: Bench) -> list[TargetRun]:
    runs: list[TargetRun] = []
    if not bench.args.no_direct:
        direct = TargetRun("direct", "(the fake upstream itself)")
        direct.verify = asyncio.run(_verify(bench, None, True))
        print("== direct (floor)", flush=True)
        _measure(bench, direct, bench.upstream_port, None)
        runs.append(direct)
    gateway_env = {
        "GOOGLE_GEMINI_BASE_URL": bench.upstream_url,
        "GEMINI_API_KEY": "bench-key",
        "GATEWAY_MAX_BODY_BYTES": str(256 * 1024 * 1024),
    }
    runs.append(_run_target(bench, "gateway", bench.args.gateway, gateway_env))
    for spec in bench.args.peer:
        name, _, command = spec.partition("=")
        runs.append(_run_target(bench, name, command, _env_for(bench, name)))
    return runs


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.client_cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in args.client_cpus.split(",")})
    config = FakeConfig(
        sse_events=args.sse_events,
        image_bytes=args.imgout_bytes,
        image_sig_bytes=args.imgout_sig_bytes,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="gw-bench-logs-"))
    bench = Bench(
        args,
        scenarios(args.images, args.image_bytes),
        Canned.build(config),
        args.upstream_port or free_port(),
        log_dir,
    )
    print(
        f"loader: {args.loader}; logs: {log_dir}; gateway CPUs {args.gateway_cpus}, "
        f"client CPUs {args.client_cpus}",
        flush=True,
    )
    fake = Child(
        "fake-upstream",
        [
            sys.executable,
            "-m",
            "bench.fake_upstream",
            f"--port={bench.upstream_port}",
            *config.as_args(),
        ],
        {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        log_dir / "fake-upstream.log",
        args.client_cpus,
    )
    try:
        wait_ready(fake, f"{bench.upstream_url}/bench/stats", None)
        for _ in range(args.repeat):
            bench.runs.append(_one_run(bench))
    finally:
        fake.stop()
    print(render(bench.runs, bench.scenarios, bench.canned, args))
    if args.json:
        Path(args.json).write_bytes(
            orjson.dumps([[asdict(t) for t in run] for run in bench.runs], default=str)
        )
    return 0
