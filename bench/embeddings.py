"""`python -m bench.embeddings`: what a 100-input `/v1/embeddings` request costs the gateway.

The fake upstream (bench/fake_upstream.py) answers `batchEmbedContents` with Google-shaped
vectors of the asked width. Per (width, encoding) cell: the same batch sent straight to the
fake (direct: the floor) and the OpenAI request through the gateway, sequentially, one at a
time. Reported: median wall time of each and the gateway process's CPU per request (from
/proc, over the whole cell: the CPU the gateway adds over direct, which spends none), and the
system's CPU over direct (the gateway's, plus what its client spends decoding the OpenAI body,
minus what a client spends decoding Gemini's own). `--baseline DIR` runs a second gateway from
another source tree (an older commit) in the same run, cell for cell, for a before/after
ratio. The fake answers as Google does: pretty-printed unless the call asks
`prettyPrint=false`; "direct" asks nothing, as google-genai does. Loopback only; every cell is
bounded by --requests and --max-seconds; every process is stopped."""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.embed_payloads import gemini_body, openai_body
from bench.procs import Child, free_port, wait_ready

GATEWAY = [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port"]
AUTH = {"authorization": "Bearer sk-bench", "content-type": "application/json"}


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.embeddings", description=__doc__)
    ap.add_argument("--inputs", type=int, default=100, help="texts per request (max 2048)")
    ap.add_argument("--dims", default="128,768,3072", help="widths, comma-separated")
    ap.add_argument("--encodings", default="float,base64")
    ap.add_argument("--requests", type=int, default=60, help="requests per cell (max 1000)")
    ap.add_argument("--max-seconds", type=float, default=20.0, help="per cell (max 120)")
    ap.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another source tree (e.g. `git archive <rev> | tar -x -C DIR`): its gateway is "
        "measured beside this one, cell by cell, and the CPU ratio printed",
    )
    args = ap.parse_args(argv)
    args.inputs = max(1, min(args.inputs, 2048))
    args.dims = [int(d) for d in args.dims.split(",") if d]
    args.encodings = [e for e in args.encodings.split(",") if e]
    args.requests = max(5, min(args.requests, 1000))
    args.max_seconds = max(1.0, min(args.max_seconds, 120.0))
    return args


class Cell:
    """Wall times and the client's decoding CPU of one run of requests."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.client_cpu = 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def client_ms(self) -> float:
        return self.client_cpu * 1000 / max(1, len(self.times))


def _timed(
    client: httpx.Client,
    url: str,
    body: bytes,
    args: argparse.Namespace,
    decode: Callable[[bytes], list[list[float]]],
    check: Callable[[list[list[float]]], None],
) -> Cell:
    cell = Cell()
    deadline = time.perf_counter() + args.max_seconds
    while len(cell.times) < args.requests and time.perf_counter() < deadline:
        started = time.perf_counter()
        response = client.post(url, content=body, headers=AUTH)
        cell.times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
        cpu = time.process_time()
        vectors = decode(response.content)
        cell.client_cpu += time.process_time() - cpu
        check(vectors)
    return cell


def decode_gemini(content: bytes) -> list[list[float]]:
    return [e["values"] for e in orjson.loads(content)["embeddings"]]


def decode_openai(content: bytes) -> list[list[float]]:
    """What the OpenAI SDK does without numpy: float lists as they are, base64 float32 decoded."""
    out: list[list[float]] = []
    for item in orjson.loads(content)["data"]:
        vector: Any = item["embedding"]
        if isinstance(vector, str):
            vector = array("f", base64.b64decode(vector)).tolist()
        out.append(vector)
    return out


def _checker(inputs: int, dims: int) -> Callable[[list[list[float]]], None]:
    def check(vectors: list[list[float]]) -> None:
        if len(vectors) != inputs or len(vectors[0]) != dims:
            raise RuntimeError(f"bad answer: {len(vectors)} vectors of {len(vectors[0])}")

    return check


def _start_gateway(label: str, tree: Path, up_port: int, logs: Path) -> tuple[Child, str]:
    """A gateway run from `tree` (its own working directory, so `-m gateway` imports that
    tree's package) on the fake upstream; (child, its /v1/embeddings URL)."""
    port = free_port()
    env = {
        "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{up_port}",
        "GEMINI_API_KEY": "bench-key",
        "GATEWAY_LOG_LEVEL": "warning",
        "PYTHONPATH": str(tree),
    }
    child = Child(label, [*GATEWAY, str(port)], env, logs / f"{label}.log", cwd=tree)
    url = f"http://127.0.0.1:{port}/v1/embeddings"
    wait_ready(child, url, openai_body(1, 128, "float"), auth=AUTH["authorization"])
    return child, url


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    logs = Path(tempfile.mkdtemp(prefix="gw-bench-embed-"))
    up_port = free_port()
    root = Path(__file__).resolve().parent.parent
    fake = Child(
        "fake-upstream",
        [sys.executable, "-m", "bench.fake_upstream", f"--port={up_port}"],
        {"PYTHONPATH": str(root)},
        logs / "fake.log",
    )
    trees = [("this", root)] + ([("baseline", args.baseline)] if args.baseline else [])
    gateways: list[tuple[str, Child, str]] = []
    rows: list[str] = []
    system: dict[tuple[str, int, str], tuple[float, float]] = {}  # → (gateway CPU, system)
    try:
        wait_ready(fake, f"http://127.0.0.1:{up_port}/bench/stats", None)
        for label, tree in trees:
            gateways.append((label, *_start_gateway(label, tree, up_port, logs)))
        direct_url = (
            f"http://127.0.0.1:{up_port}/v1beta/models/gemini-embedding-001:batchEmbedContents"
        )
        with httpx.Client(timeout=60, trust_env=False) as client:
            for dims in args.dims:
                check = _checker(args.inputs, dims)
                body = gemini_body(args.inputs, dims)
                direct = _timed(client, direct_url, body, args, decode_gemini, check)
                for encoding in args.encodings:
                    body = openai_body(args.inputs, dims, encoding)
                    for label, gateway, gw_url in gateways:
                        warm = argparse.Namespace(**{**vars(args), "requests": 3})
                        _timed(client, gw_url, body, warm, decode_openai, check)
                        cpu0 = gateway.cpu_seconds()
                        through = _timed(client, gw_url, body, args, decode_openai, check)
                        cpu = (gateway.cpu_seconds() - cpu0) * 1000 / len(through.times)
                        over = cpu + through.client_ms - direct.client_ms
                        system[(label, dims, encoding)] = (cpu, over)
                        rows.append(
                            f"| {args.inputs} | {dims} | {encoding} | {label} "
                            f"| {direct.p50:.2f} | {through.p50:.2f} | {cpu:.2f} "
                            f"| {direct.client_ms:.2f} | {through.client_ms:.2f} | {over:.2f} "
                            f"| {len(through.times)} |"
                        )
                        print(rows[-1], flush=True)
    finally:
        for _, gateway, _ in gateways:
            gateway.stop()
        fake.stop()
    print(
        "\n| inputs | width | encoding | gateway | direct p50 ms | gateway p50 ms "
        "| gateway CPU ms/req | direct client CPU ms | gateway client CPU ms "
        "| system CPU over direct ms | requests |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    if args.baseline:
        print(_ratios(system, args))
    print(f"logs: {logs}")
    return 0


def _ratios(system: dict[tuple[str, int, str], tuple[float, float]], args: Any) -> str:
    """Baseline's gateway CPU over this tree's, per cell (both measured in this one run)."""
    lines = [
        "\n| width | encoding | baseline CPU ms/req | this CPU ms/req | baseline / this "
        "| baseline system over direct ms | this system over direct ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for dims in args.dims:
        for encoding in args.encodings:
            base_cpu, base_over = system[("baseline", dims, encoding)]
            cpu, over = system[("this", dims, encoding)]
            ratio = base_cpu / cpu if cpu > 0 else float("inf")
            lines.append(
                f"| {dims} | {encoding} | {base_cpu:.2f} | {cpu:.2f} | {ratio:.1f}x "
                f"| {base_over:.2f} | {over:.2f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
