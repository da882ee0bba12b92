"""Real servers on 127.0.0.1 for the tests that in-process transports cannot do: timeouts,
refused connections, disconnects and keep-alives (httpx.ASGITransport buffers whole bodies and
never disconnects). Each server is uvicorn in a thread with its own loop, on a free port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.cli import http_protocol

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@contextmanager
def serve(app: ASGIApp, **options: Any) -> Iterator[str]:
    """Runs `app` under uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options.setdefault("timeout_graceful_shutdown", 1)
    options.setdefault(
        "http", http_protocol()
    )  # the protocol the CLI serves with  # the emulator's unary waits ignore us
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="auto", loop="asyncio", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, START_TIMEOUT, "the loopback server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_until(check: Callable[[], bool], timeout: float, message: str) -> None:
    """Polls `check` (bounded); fails with `message` when it never becomes true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.01)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """The async twin of wait_until, returning whether `check` became true in time."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class DisconnectProbe:
    """Wraps an upstream app and counts requests whose client left before the response ended.

    The emulator counts cancelled streams itself, but not unary calls it is sleeping in; this
    reads the body up front, then watches the connection while the app works."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gone_early = 0
        self.completed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: list[Message] = []
        while True:
            message = await receive()
            body.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        gone = asyncio.Event()
        finished = False

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        async def replay() -> Message:
            if body:
                return body.pop(0)
            await gone.wait()
            return {"type": "http.disconnect"}

        async def tracked_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        watcher = asyncio.create_task(watch())
        work = asyncio.create_task(self.app(scope, replay, tracked_send))
        try:
            await asyncio.wait({watcher, work}, return_when=asyncio.FIRST_COMPLETED)
            if gone.is_set() and not finished:
                self.gone_early += 1
                work.cancel()
            await asyncio.gather(work, return_exceptions=True)
        finally:
            watcher.cancel()
            if finished:
                self.completed += 1
