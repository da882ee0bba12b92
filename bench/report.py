"""Markdown tables for `python -m bench`: per-cell numbers against the direct floor (and peers),
the streaming probe, and the targets (the worst value over --repeat runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.payloads import Canned, Scenario

if TYPE_CHECKING:
    from bench.run import Cell, TargetRun

MB = 1e6
MIB = 1024 * 1024


def _cell(run: list[TargetRun], target: str, scenario: str, conc: int) -> Cell | None:
    for t in run:
        if t.name == target:
            return next((c for c in t.cells if c.scenario == scenario and c.conc == conc), None)
    return None


def _target(run: list[TargetRun], name: str) -> TargetRun | None:
    return next((t for t in run if t.name == name), None)


def _peer(run: list[TargetRun]) -> str | None:
    return next((t.name for t in run if t.name not in {"direct", "gateway"}), None)


def _hits_ok(cell: Cell) -> bool:
    """Every completed request reached the upstream once (a few may be in flight at the cut)."""
    return 0 <= cell.hits - cell.load.requests <= cell.conc


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def cells_table(run: list[TargetRun]) -> list[str]:
    peer = _peer(run)
    lines = [
        "| scenario | conc | target | RPS | p50 ms | p99 ms | errors | failed checks | hits ok "
        f"| added p50 ms | RPS / direct | RPS / {peer or 'peer'} | CPU ms/req | peak RSS MB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    keys = list(dict.fromkeys((c.scenario, c.conc) for t in run for c in t.cells))
    for scenario, conc in keys:
        direct = _cell(run, "direct", scenario, conc)
        other = _cell(run, peer, scenario, conc) if peer else None
        for target in run:
            cell = _cell(run, target.name, scenario, conc)
            if cell is None:
                continue
            is_direct = target.name == "direct"
            r = cell.load
            row = [
                scenario,
                str(conc),
                target.name,
                _num(r.rps, 1),
                _num(r.p50),
                _num(r.p99),
                str(r.errors),
                str(r.bad),
                "yes" if _hits_ok(cell) else f"NO ({cell.hits})",
                "" if is_direct or not direct else _num(r.p50 - direct.load.p50),
                "" if is_direct or not direct else _num(r.rps / direct.load.rps, 3),
                "" if is_direct or not other else _num(r.rps / other.load.rps),
                _num(cell.cpu_ms_per_req),
                _num(cell.peak_rss / MIB if cell.peak_rss else None, 0),
            ]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def probe_table(run: list[TargetRun]) -> list[str]:
    from bench.load import percentile

    lines = [
        "| target | streams ok | errors | data lines/stream | TTFE p50 ms | TTFE p99 ms | total p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in run:
        p = t.probe
        if p is None:
            continue
        events = sorted(p.events)[len(p.events) // 2] if p.events else 0
        lines.append(
            f"| {t.name} | {p.ok} | {p.errors} | {events} | {_num(percentile(p.first_event_ms, 50))} "
            f"| {_num(percentile(p.first_event_ms, 99))} | {_num(percentile(p.total_ms, 50))} |"
        )
    return lines


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    limit: str
    higher_is_better: bool
    threshold: float
    measure: Callable[[list[TargetRun]], float | None]
    unit: str = ""


def _ttfe_added(run: list[TargetRun]) -> float | None:
    from bench.load import percentile

    gw, direct = _target(run, "gateway"), _target(run, "direct")
    if not gw or not direct or not gw.probe or not direct.probe:
        return None
    return percentile(gw.probe.first_event_ms, 50) - percentile(direct.probe.first_event_ms, 50)


def targets(
    args: argparse.Namespace, scenarios: dict[str, Scenario], canned: Canned
) -> list[Target]:
    lo, hi = min(args.conc), max(args.conc)
    img4_body = len(scenarios["img4"].openai_body)

    def added_p50(run: list[TargetRun]) -> float | None:
        gw, direct = _cell(run, "gateway", "text", lo), _cell(run, "direct", "text", lo)
        return gw.load.p50 - direct.load.p50 if gw and direct else None

    def vs_peer(scenario: str) -> Callable[[list[TargetRun]], float | None]:
        def ratio(run: list[TargetRun]) -> float | None:
            peer = _peer(run)
            gw = _cell(run, "gateway", scenario, hi)
            other = _cell(run, peer, scenario, hi) if peer else None
            return gw.load.rps / other.load.rps if gw and other and other.load.rps else None

        return ratio

    def cpu_per_mb(run: list[TargetRun]) -> float | None:
        values = [
            c.cpu_ms_per_req / (img4_body / MB)
            for c in (_cell(run, "gateway", "img4", conc) for conc in args.conc)
            if c and c.cpu_ms_per_req is not None
        ]
        return max(values) if values else None

    def gateway(field: str) -> Callable[[list[TargetRun]], float | None]:
        def value(run: list[TargetRun]) -> float | None:
            gw = _target(run, "gateway")
            raw = getattr(gw, field) if gw else None
            return None if raw is None else raw / MIB if field.endswith("rss") else raw

        return value

    def peak_vs_payload(run: list[TargetRun]) -> float | None:
        cell = _cell(run, "gateway", "img4", hi)
        return cell.peak_rss / (hi * img4_body) if cell and cell.peak_rss else None

    def given_back(run: list[TargetRun]) -> float | None:
        gw = _target(run, "gateway")
        cell = _cell(run, "gateway", "img4", hi)
        if (
            not gw
            or not cell
            or not cell.peak_rss
            or not gw.idle_rss
            or "img4" not in gw.settled_rss
        ):
            return None
        grown = cell.peak_rss - gw.idle_rss
        kept = gw.settled_rss["img4"] - gw.idle_rss
        return max(0.0, kept / grown) if grown > 0 else 0.0

    def events_match(run: list[TargetRun]) -> float | None:
        gw = _target(run, "gateway")
        verdict = gw.verify.get("stream") if gw else None
        return None if verdict is None else float(verdict.ok)

    def clean(run: list[TargetRun]) -> float | None:
        ours = [t for t in run if t.name in {"direct", "gateway"}]  # peers are reported, not held
        cells = [c for t in ours for c in t.cells]
        failed = sum(c.load.errors + c.load.bad + (not _hits_ok(c)) for c in cells)
        failed += sum(not v.ok for t in ours for v in t.verify.values())
        return float(failed)

    n = canned.config.sse_events
    return [
        Target(f"text c={lo}: added p50 vs direct", "<= 1 ms", False, 1.0, added_p50, " ms"),
        Target(f"text c={hi}: RPS vs peer", ">= 6x", True, 6.0, vs_peer("text"), "x"),
        Target(f"stream ({n} events): TTFE added p50", "<= 1 ms", False, 1.0, _ttfe_added, " ms"),
        Target(f"stream c={hi}: RPS vs peer", ">= 12x", True, 12.0, vs_peer("stream"), "x"),
        Target("stream: events out = events in (1 = yes)", "= 1", True, 1.0, events_match),
        Target(
            "img4: gateway CPU per MB of body", "<= 1.5 ms/MB", False, 1.5, cpu_per_mb, " ms/MB"
        ),
        Target(f"img4 c={hi}: RPS vs peer", ">= 6x", True, 6.0, vs_peer("img4"), "x"),
        Target(f"imgout c={hi}: RPS vs peer", ">= 3x", True, 3.0, vs_peer("imgout"), "x"),
        Target("idle RSS", "<= 60 MB", False, 60.0, gateway("idle_rss"), " MB"),
        Target(
            f"img4 c={hi}: peak RSS / payload in flight", "<= 2", False, 2.0, peak_vs_payload, "x"
        ),
        Target("img4: share of RSS growth kept 2 s after", "<= 0.25", False, 0.25, given_back),
        Target(
            "start-up: spawn to first answered chat", "<= 1 s", False, 1.0, gateway("ready_s"), " s"
        ),
        Target("errors + failed checks (direct, gateway)", "= 0", False, 0.0, clean),
    ]


def targets_table(
    runs: list[list[TargetRun]],
    args: argparse.Namespace,
    scenarios: dict[str, Scenario],
    canned: Canned,
) -> list[str]:
    heads = " | ".join(f"run {i + 1}" for i in range(len(runs)))
    lines = [
        f"| target | limit | {heads} | worst | verdict |",
        "|---|---|" + "---:|" * len(runs) + "---:|---|",
    ]
    for target in targets(args, scenarios, canned):
        values = [target.measure(run) for run in runs]
        known = [v for v in values if v is not None]
        worst = (min(known) if target.higher_is_better else max(known)) if known else None
        if worst is None:
            verdict = "n/a (needs --peer)" if "peer" in target.label else "n/a"
        elif target.higher_is_better:
            verdict = "PASS" if worst >= target.threshold else "FAIL"
        else:
            verdict = "PASS" if worst <= target.threshold else "FAIL"
        cols = " | ".join(_num(v) + (target.unit if v is not None else "") for v in values)
        worst_text = _num(worst) + target.unit if worst is not None else "-"
        lines.append(f"| {target.label} | {target.limit} | {cols} | {worst_text} | {verdict} |")
    return lines


def render(
    runs: list[list[TargetRun]],
    scenarios: dict[str, Scenario],
    canned: Canned,
    args: argparse.Namespace,
) -> str:
    out = [
        "",
        f"# gemini-gateway loopback benchmark ({args.loader}, {args.duration:g} s per cell, "
        f"gateway CPUs {args.gateway_cpus or 'any'}, client CPUs {args.client_cpus or 'any'})",
        "",
        f"img4 body {len(scenarios['img4'].openai_body) / MB:.2f} MB ({args.images} x "
        f"{args.image_bytes} B PNG); imgout answer {len(canned.unary_image) / MB:.2f} MB "
        f"({args.imgout_bytes} B PNG + {len(canned.image_sig)} char signature); "
        f"stream {canned.config.sse_events} upstream events",
    ]
    for i, run in enumerate(runs):
        out += ["", f"## run {i + 1}", ""]
        for t in run:
            if t.name == "direct":
                continue
            out.append(
                f"- {t.name}: ready {_num(t.ready_s)} s, idle RSS {_num((t.idle_rss or 0) / MIB, 1)} MB, "
                f"VmHWM {_num((t.hwm or 0) / MIB, 0)} MB, RSS 2 s after each scenario "
                + ", ".join(f"{k} {v / MIB:.0f} MB" for k, v in t.settled_rss.items())
            )
        out += ["", *cells_table(run), "", *probe_table(run)]
    out += ["", "## targets", "", *targets_table(runs, args, scenarios, canned), ""]
    return "\n".join(out)
