"""What /readyz answers, and how often it asks: the upstream probe (upstream/probe.py) and a
state store ping, cached and bounded so that readiness polling can never load Gemini or hang.

- Cached: a result is reused for `ready_cache_seconds`; a storm of probes makes at most one
  upstream call per period, whatever the number of replicas' pollers or callers.
- Single-flight: concurrent callers share the one probe in flight (shielded, so a caller that
  goes away does not cancel it for the others).
- Bounded: each check gives up after `ready_timeout` (a black-holed upstream or a state store
  stuck behind a long operation is a "timeout", never a hanging probe).

Three answers: "ready" (200); "degraded" when only the state store is unreachable (503, or 200
with GATEWAY_READY_REQUIRE_STATE=false: requests are still served, statelessly); "not ready"
when the upstream cannot be reached (503: no request could succeed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.config import Settings
from gateway.state.store import StoreError, TurnStore
from gateway.upstream.client import GeminiClient
from gateway.upstream.probe import UpstreamCheck, probe_upstream

log = logging.getLogger("gateway.ready")
STATELESS = (
    "the state store is unreachable: requests are still served, statelessly (fidelity only "
    "from what clients carry back; stored responses and hosted image URLs are unavailable)"
)


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """`kind`: ok, unreachable (the ping failed), timeout."""

    ok: bool
    backend: str
    kind: str = "ok"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "kind": self.kind, "backend": self.backend}


@dataclass(frozen=True, slots=True)
class Report:
    upstream: UpstreamCheck
    store: StoreCheck

    @property
    def status(self) -> str:
        if not self.upstream.ok:
            return "not ready"
        return "ready" if self.store.ok else "degraded"

    def http_status(self, require_state: bool) -> int:
        status = self.status
        return 200 if status == "ready" or (status == "degraded" and not require_state) else 503

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "upstream_client": self.upstream.ok,
            "state_store": self.store.ok,
            "checks": {"upstream": self.upstream.as_dict(), "state_store": self.store.as_dict()},
        }
        if self.status == "degraded":
            out["note"] = STATELESS
        return out


def backend_name(state_url: str) -> str:
    """memory, sqlite or redis: the URL's scheme only (a Redis URL may carry a password)."""
    scheme = state_url.partition(":")[0]
    return "redis" if scheme in ("redis", "rediss", "unix") else scheme


class Readiness:
    def __init__(
        self,
        upstream: GeminiClient,
        store: TurnStore,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstream = upstream
        self._store = store
        self._ttl = settings.ready_cache_seconds
        self._timeout = settings.ready_timeout
        self._backend = backend_name(settings.state)
        self._clock = clock
        self._cached: Report | None = None
        self._expires = 0.0
        self._task: asyncio.Task[Report] | None = None
        self.probes = 0  # probes run (tests count them; so could a metric)

    async def report(self) -> Report:
        if self._cached is not None and self._clock() < self._expires:
            return self._cached
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(self._task)

    async def _run(self) -> Report:
        try:
            self.probes += 1
            upstream, store = await asyncio.gather(
                probe_upstream(self._upstream, self._timeout), self._ping()
            )
            report = Report(upstream, store)
            self._log_change(report)
            self._cached, self._expires = report, self._clock() + self._ttl
            return report
        finally:
            self._task = None

    def _log_change(self, report: Report) -> None:
        """One line when readiness changes (not one per poll): what failed and where."""
        before = self._cached.status if self._cached is not None else "ready"
        if report.status == before:
            return
        fields = {
            "ready_status": report.status,
            "upstream_kind": report.upstream.kind,
            "upstream_host": report.upstream.host,
            "state_kind": report.store.kind,
        }
        level = logging.INFO if report.status == "ready" else logging.WARNING
        log.log(level, "readiness changed from %s to %s", before, report.status, extra=fields)

    async def _ping(self) -> StoreCheck:
        try:
            ok = await bounded(self._store.ready(), self._timeout)
        except (StoreError, OSError, RuntimeError):  # unreachable, and /readyz does not 500
            ok = False
        if ok is None:
            return StoreCheck(False, self._backend, "timeout")
        return StoreCheck(ok, self._backend, "ok" if ok else "unreachable")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def bounded(work: Awaitable[bool], bound: float) -> bool | None:
    """`work`'s answer, or None after `bound` seconds. Waits on a task rather than cancelling into
    it: SQLite's worker thread defers cancellation until it returns, and the answer must not."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=bound)
    if not done:
        task.cancel()
        task.add_done_callback(_consume)
        return None
    return task.result()


def _consume(task: asyncio.Future[bool]) -> None:
    if not task.cancelled():
        task.exception()
