"""Test helpers for the turn-store tests (a module, so tests can use them in type hints)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.state.store import TurnStore

StoreFactory = Callable[..., TurnStore]


class FakeClock:
    """Time that only moves when a test says so, so ages and LRU order are deterministic."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
