"""At debug, each request that looks up remembered turns logs its hits and misses (the
operator's view of why a turn came back whole or fell back), counted as in /metrics."""

from __future__ import annotations

import logging
from typing import Any

import pytest

pytestmark = pytest.mark.anyio


def lookups(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    return [
        (r.turn_cache_hits, r.turn_cache_misses)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "gateway.serving" and r.getMessage() == "turn cache lookup"
    ]


async def test_turn_cache_hits_and_misses_are_logged_at_debug(
    stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.serving")
    client = stack.openai()
    first = await client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "remember me"}]
    )
    assert lookups(caplog) == []  # nothing to look up on a first turn
    history = [
        {"role": "user", "content": "remember me"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "again"},
    ]
    await client.chat.completions.create(model="gemini-2.5-flash", messages=history)
    edited = [history[0], {"role": "assistant", "content": "never said"}, history[2]]
    await client.chat.completions.create(model="gemini-2.5-flash", messages=edited)
    (hits, none_missed), (none_hit, misses) = lookups(caplog)
    assert hits > 0 and misses > 0 and none_missed == none_hit == 0
    async with stack.http() as http:
        text = (await http.get("/metrics")).text
    assert f'gateway_turn_cache_lookups_total{{result="hit"}} {float(hits)}' in text
    assert f'gateway_turn_cache_lookups_total{{result="miss"}} {float(misses)}' in text
