"""A client that leaves cancels the work, but never under a call still running on a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from gateway.routes.common import unless_disconnected
from gateway.state.sqlite import SqliteTurnStore

pytestmark = pytest.mark.anyio


def leaves_after(seconds: float):  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        await asyncio.sleep(seconds)
        return {"type": "http.disconnect"}

    return receive


def stays():  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    return receive


async def test_the_result_when_the_client_stays():
    async def work() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert await unless_disconnected(stays(), work) == "done"


async def test_none_and_the_work_cancelled_when_the_client_leaves():
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    assert await asyncio.wait_for(unless_disconnected(leaves_after(0.02), work), 2) is None
    assert cancelled.is_set()


async def test_a_cancellation_from_outside_still_propagates():
    async def work() -> None:
        await asyncio.sleep(10)

    task = asyncio.create_task(unless_disconnected(stays(), work))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def on_loop(event: asyncio.Event) -> Callable[[], None]:
    """A setter for `event` that a worker thread may call."""
    loop = asyncio.get_running_loop()
    return lambda: loop.call_soon_threadsafe(event.set)


def leaves_once(event: asyncio.Event):  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        await event.wait()
        return {"type": "http.disconnect"}

    return receive


async def test_a_thread_call_finishes_before_the_cancellation_lands():
    limiter = anyio.CapacityLimiter(1)
    running = 0
    most = 0
    guard = threading.Lock()
    started, release = asyncio.Event(), threading.Event()
    signal_started = on_loop(started)

    def slow() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        signal_started()
        release.wait(10)  # held on its thread until the clients have left
        with guard:
            running -= 1

    async def work() -> None:
        await anyio.to_thread.run_sync(slow, limiter=limiter)

    calls = asyncio.gather(*(unless_disconnected(leaves_once(started), work) for _ in range(3)))
    await started.wait()  # all three clients leave once the first call is on its thread
    await asyncio.sleep(0.05)
    assert not calls.done()  # the cancellation waits for the thread
    release.set()
    assert await calls == [None, None, None]
    assert running == 0  # no thread outlived its request
    assert most == 1  # the limiter's single token was never handed out twice


async def test_the_store_lock_is_not_released_while_its_connection_is_busy(tmp_path: Path):
    store = SqliteTurnStore(str(tmp_path / "turns.db"), max_bytes=10**8, max_age_seconds=3600)
    flush = store._flush_touches
    flushing, release = asyncio.Event(), threading.Event()
    signal_flushing = on_loop(flushing)

    def slow_flush() -> None:  # a slow disk inside the write transaction
        signal_flushing()
        release.wait(10)
        flush()

    store._flush_touches = slow_flush  # type: ignore[method-assign]
    leaving = asyncio.create_task(
        unless_disconnected(leaves_once(flushing), lambda: store.put_many({"a": b"A"}))
    )
    await flushing.wait()  # the first write is on its thread; its client has left
    store._flush_touches = flush  # type: ignore[method-assign]
    other = asyncio.create_task(store.put_many({"b": b"B"}))
    await asyncio.sleep(0.05)  # the second write arrives while the first is still busy
    release.set()
    await asyncio.gather(leaving, other)
    assert await store.get_many(["a", "b"]) == {"a": b"A", "b": b"B"}
    await store.aclose()
