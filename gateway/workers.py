"""`serve --workers N`: N gateway processes accepting on one port.

The parent binds the port (one SO_REUSEPORT listening socket per worker where the OS has it, so
the kernel spreads connections evenly: with one shared socket the busiest worker tends to accept
most of them) and hands each spawned process its socket; a replacement worker gets the socket of
the one it replaces, with the connections waiting in its backlog. Each worker is a whole gateway
(its own loop, upstream client and state-store pool), so the state must be shared between
processes (sqlite or redis: the CLI refuses memory). The parent only supervises: a worker that
dies is replaced, one that dies while starting stops everything (a broken config would fail the
same way forever), and SIGTERM/SIGINT are passed on so each worker drains its requests as a
single process does.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("gateway")

# A worker that exits sooner than this after its start failed to start.
STARTUP_SECONDS = 10.0
_POLL_SECONDS = 0.2


def bind(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one port (SO_REUSEPORT), or one shared socket without it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reuse_port = getattr(socket, "SO_REUSEPORT", None)
    sockets: list[socket.socket] = []
    try:
        for _ in range(count if reuse_port is not None else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port is not None:
                sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
            sock.bind((host, port if not sockets[:-1] else sockets[0].getsockname()[1]))
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Supervisor:
    def __init__(
        self,
        workers: int,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        sockets: list[socket.socket],
    ) -> None:
        self._count = workers
        self._target = target
        self._args = args
        self._sockets = sockets
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[tuple[multiprocessing.process.BaseProcess, float]] = []
        self._stop = threading.Event()

    def _start(self, index: int) -> tuple[multiprocessing.process.BaseProcess, float]:
        sock = self._sockets[index % len(self._sockets)]
        proc = self._ctx.Process(target=self._target, args=(*self._args, sock))
        proc.start()
        return proc, time.monotonic()

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._stop.set()

    def run(self) -> int:
        """Blocks until a signal (exit 0) or a worker failing at startup (exit 1)."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            self._procs = [self._start(i) for i in range(self._count)]
            log.info("serving with %d worker processes", self._count)
            while not self._stop.wait(_POLL_SECONDS):
                if not self._replace_dead():
                    code = 1
                    break
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _replace_dead(self) -> bool:
        for index, (proc, started) in enumerate(self._procs):
            if proc.is_alive() or self._stop.is_set():
                continue
            if time.monotonic() - started < STARTUP_SECONDS:
                log.error("worker %s exited while starting (code %s)", proc.pid, proc.exitcode)
                return False
            log.warning("worker %s exited (code %s); starting another", proc.pid, proc.exitcode)
            self._procs[index] = self._start(index)
        return True

    def _stop_all(self) -> None:
        """Stop listening here, SIGTERM each worker (it stops listening and drains like a single
        process), then wait for all: the port refuses new connections once every copy of the
        listening socket is closed."""
        for sock in self._sockets:
            sock.close()
        for proc, _ in self._procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM
        for proc, _ in self._procs:
            proc.join()
