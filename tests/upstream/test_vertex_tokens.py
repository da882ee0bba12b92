"""The token source on its own (a stand-in for google-auth's credentials): the blocking refresh
runs on a worker thread while the event loop keeps going, once for every waiting request; a
failed first refresh is a clear 502 that never shows a token; a failed early refresh keeps
the still-valid token."""

from __future__ import annotations

import asyncio
import datetime
import threading

import pytest

from gateway.upstream.vertex_tokens import TokenSource, VertexAuthError

pytestmark = pytest.mark.anyio


class Credentials:
    """google-auth's credential surface: refresh(request) sets token and (naive UTC) expiry."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.token: str | None = None
        self.expiry: datetime.datetime | None = None
        self.gate = gate
        self.fail = fail
        self.threads: list[int] = []

    def refresh(self, request: object) -> None:
        self.threads.append(threading.get_ident())
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("token endpoint unreachable")
        self.token = f"ya29.t{len(self.threads)}"
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        self.expiry = now + datetime.timedelta(seconds=3600)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_refresh_runs_off_the_loop_once_for_every_waiter():
    gate = threading.Event()
    credentials = Credentials(gate)
    source = TokenSource(credentials, request=None, clock=Clock())
    waiters = [asyncio.create_task(source.token()) for _ in range(50)]
    # the refresh is blocked in its thread, yet this coroutine keeps running on the loop
    for _ in range(1000):
        if credentials.threads:
            break
        await asyncio.sleep(0.005)
    assert credentials.threads and not any(w.done() for w in waiters)
    gate.set()
    assert await asyncio.gather(*waiters) == ["ya29.t1"] * 50
    assert credentials.threads[0] != threading.get_ident()
    assert len(credentials.threads) == 1 and source.refreshes == 1


async def test_a_failed_first_refresh_is_a_502_without_secrets():
    source = TokenSource(Credentials(fail=True), request=None, clock=Clock())
    with pytest.raises(VertexAuthError) as caught:
        await source.token()
    assert caught.value.status == 502 and caught.value.code == "upstream_auth_failed"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in caught.value.message


async def test_a_failed_early_refresh_keeps_the_valid_token():
    clock = Clock()
    credentials = Credentials()
    source = TokenSource(credentials, request=None, clock=clock)
    assert await source.token() == "ya29.t1"
    credentials.fail = True
    clock.now = 3600 - 100  # past the refresh point, before expiry
    assert await source.token() == "ya29.t1"
    assert source._task is not None
    await asyncio.gather(source._task, return_exceptions=True)
    assert await source.token() == "ya29.t1"  # no retry storm: the next try waits a little
    assert len(credentials.threads) == 2
    clock.now = 3600 + 1  # expired, refresh still failing: the caller gets the error
    with pytest.raises(VertexAuthError):
        await source.token()
