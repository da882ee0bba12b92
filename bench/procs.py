"""Child processes for the benchmark: each in its own session (stopped by its own process group),
optionally pinned to CPUs, with CPU time and RSS read from /proc for the whole process tree."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*/children"):
        try:
            out += [int(p) for p in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def _field_kb(pid: int, name: str) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Child:
    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        cpus: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        if cpus and shutil.which("taskset"):
            argv = ["taskset", "-c", cpus, *argv]
        self.log: IO[bytes] = log_path.open("wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
            cwd=cwd,
        )
        self.pid = self.proc.pid

    def tree(self) -> list[int]:
        pids, queue = [], [self.pid]
        for _ in range(256):  # bounded walk
            if not queue:
                break
            pid = queue.pop()
            pids.append(pid)
            queue += _children(pid)
        return pids

    def rss(self) -> int:
        return sum(_field_kb(pid, "VmRSS:") for pid in self.tree())

    def hwm(self) -> int:
        """The kernel's own peak RSS (VmHWM), the largest over the tree."""
        return max((_field_kb(pid, "VmHWM:") for pid in self.tree()), default=0)

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.tree():
            try:
                fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, ValueError, IndexError):
                continue
        return total / CLOCK_TICKS

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()


def wait_ready(
    child: Child, url: str, body: bytes | None, timeout: float = 60.0, auth: str = ""
) -> float:
    """Seconds from spawn until `url` answers 200 (POSTing `body` when given), polled every 10 ms."""
    deadline = time.perf_counter() + timeout
    last = ""
    with httpx.Client(timeout=10, trust_env=False) as client:
        while time.perf_counter() < deadline:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
            try:
                if body is None:
                    response = client.get(url)
                else:
                    headers = {"content-type": "application/json"}
                    if auth:
                        headers["authorization"] = auth
                    response = client.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    return time.perf_counter() - child.started
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.01)
    raise RuntimeError(f"{child.name} not ready after {timeout:.0f}s: {last}")


class RssSampler(threading.Thread):
    """Peak RSS of a child's tree, sampled every `period` seconds while a cell runs."""

    def __init__(self, child: Child, period: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.child = child
        self.period = period
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self.child.rss())
            self._stop_event.wait(self.period)

    def finish(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return max(self.peak, self.child.rss())
