"""Server-side Gemini keys: round-robin, with a key that hit its quota (429) resting for the
delay Gemini asked for. Keys are never logged; `label` gives a safe name for logs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable


def key_label(key: str) -> str:
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


class KeyRing:
    def __init__(self, keys: tuple[str, ...], clock: Callable[[], float] = time.monotonic) -> None:
        self._keys = keys
        self._next = 0
        self._resting: dict[str, float] = {}
        self._clock = clock

    def __bool__(self) -> bool:
        return bool(self._keys)

    def pick(self) -> str | None:
        """The next key not resting; when all rest, the one that wakes first."""
        if not self._keys:
            return None
        now = self._clock()
        for _ in range(len(self._keys)):
            key = self._keys[self._next % len(self._keys)]
            self._next += 1
            if self._resting.get(key, 0.0) <= now:
                return key
        return min(self._keys, key=lambda k: self._resting.get(k, 0.0))

    def rest(self, key: str, seconds: float) -> None:
        if key in self._keys:
            self._resting[key] = self._clock() + max(seconds, 1.0)
