"""Ignored persisted records are each counted; the log tells the first of each kind and reason,
then at most one line per LOG_EVERY seconds with how many were ignored since."""

from __future__ import annotations

import logging

import pytest

from gateway.protocol.schema import Unread
from gateway.state.ignored import LOG_EVERY, IgnoredRecords


def test_each_record_is_counted_and_each_kind_and_reason_logged_once_per_period(
    caplog: pytest.LogCaptureFixture,
):
    counted: list[tuple[str, str]] = []
    now = [100.0]
    ignored = IgnoredRecords(lambda k, r: counted.append((k, r)), clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="gateway.state")
    for _ in range(50):
        ignored("turn_record", Unread("newer", 2))
    ignored("turn_record", Unread("unreadable"))
    ignored("response", Unread("newer", 3))
    assert len(counted) == 52 and counted[-1] == ("response", "newer")
    lines = [(r.kind, r.reason, r.ignored) for r in caplog.records]  # type: ignore[attr-defined]
    assert lines == [
        ("turn_record", "newer", 1),
        ("turn_record", "unreadable", 1),
        ("response", "newer", 1),
    ]
    assert caplog.records[0].version == 2  # type: ignore[attr-defined]
    caplog.clear()
    now[0] += LOG_EVERY
    ignored("turn_record", Unread("newer", 2))
    assert [r.ignored for r in caplog.records] == [50]  # type: ignore[attr-defined]
