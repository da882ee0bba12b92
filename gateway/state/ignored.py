"""Persisted records this release does not read: counted, and told once, never a flood.

A record that is newer than this release or cannot be read (protocol/schema.py, the upgrade
rule) is a miss for the caller. Each one is counted (`gateway_state_records_ignored_total{kind,
reason}`); the first of each kind and reason is logged at warning, then at most one line per
`LOG_EVERY` seconds with how many were ignored since, so a store full of newer records (a
rollback after an upgrade) shows up in the log without a line per request.

The decoding stays where it is pure (protocol/turn_record.py, state/responses.py); this is what
the state layer and serving call when a decode says `Unread`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from gateway.protocol.schema import Unread

log = logging.getLogger("gateway.state")

LOG_EVERY: Final = 600.0

Count = Callable[[str, str], None]  # (kind, reason)


def _no_count(kind: str, reason: str) -> None:
    """For a store built without metrics (unit tests): the log still tells."""


class IgnoredRecords:
    def __init__(
        self, count: Count = _no_count, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._count = count
        self._clock = clock
        self._next_log: dict[tuple[str, str], float] = {}
        self._since: dict[tuple[str, str], int] = {}

    def __call__(self, kind: str, unread: Unread) -> None:
        self._count(kind, unread.reason)
        key = (kind, unread.reason)
        self._since[key] = self._since.get(key, 0) + 1
        now = self._clock()
        if now < self._next_log.get(key, now):
            return
        self._next_log[key] = now + LOG_EVERY
        ignored = self._since.pop(key)
        log.warning(
            "persisted %s records ignored (%s): served as a miss; see README Upgrading",
            kind,
            unread.reason,
            extra={
                "kind": kind,
                "reason": unread.reason,
                "version": unread.version,
                "ignored": ignored,
            },
        )
