"""serving/readiness.py's cache and bounds, on a hand-driven clock (no timed assertions): a
result is reused until its period ends, and a state store that never answers is a "timeout"."""

from __future__ import annotations

import asyncio

import pytest

from gateway.serving.readiness import Readiness, backend_name, bounded
from gateway.state.memory import MemoryTurnStore
from tests.conftest import Stack, emulator_stack
from tests.state.turnstore_helpers import FakeClock

pytestmark = pytest.mark.anyio


def upstream_probes(stack: Stack) -> int:
    return sum(1 for r in stack.emulator.requests if r.method == "models.list")


async def test_a_result_is_reused_until_the_period_ends() -> None:
    clock = FakeClock()
    async with emulator_stack(api_keys=("k",), ready_cache_seconds=5) as stack:
        services = stack.app.state.services
        readiness = Readiness(services.upstream, services.turns, services.settings, clock=clock)
        first = await readiness.report()
        clock.advance(4.9)
        assert await readiness.report() is first
        assert upstream_probes(stack) == 1
        clock.advance(0.2)
        second = await readiness.report()
    assert second is not first and second.status == "ready"
    assert upstream_probes(stack) == 2 and readiness.probes == 2


class StuckStore(MemoryTurnStore):
    """A store whose ping never returns (a connection wedged behind a long operation)."""

    async def ready(self) -> bool:
        await asyncio.Event().wait()
        return True


async def test_a_store_that_never_answers_is_a_timeout_and_degraded() -> None:
    async with emulator_stack(api_keys=("k",), ready_timeout=0.05) as stack:
        services = stack.app.state.services
        readiness = Readiness(
            services.upstream,
            StuckStore(max_bytes=1 << 20, max_age_seconds=60.0),
            services.settings,
        )
        report = await readiness.report()
    assert (report.status, report.store.kind) == ("degraded", "timeout")
    assert report.http_status(require_state=True) == 503
    assert report.http_status(require_state=False) == 200


async def test_bounded_gives_the_answer_or_none() -> None:
    async def yes() -> bool:
        return True

    assert await bounded(yes(), 1.0) is True
    assert await bounded(asyncio.Event().wait(), 0.01) is None  # type: ignore[arg-type]


def test_the_backend_name_never_carries_the_url() -> None:
    assert backend_name("redis://:s3cret@10.0.0.1:6379/0") == "redis"
    assert backend_name("sqlite:///state.db") == "sqlite"
    assert backend_name("memory") == "memory"
