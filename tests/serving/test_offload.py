"""Large translations run on a worker thread (serving/offload.py), small ones on the loop."""

from __future__ import annotations

import threading

import pytest

from gateway.serving.offload import OFF_LOOP_ITEMS, is_large, run_pure

pytestmark = pytest.mark.anyio


def body(messages: int, parts_each: int = 0) -> list[object]:
    content: object = [{"type": "text", "text": "x"}] * parts_each if parts_each else "x"
    return [{"role": "user", "content": content}] * messages


def test_size_counts_messages_and_their_parts() -> None:
    assert not is_large(body(OFF_LOOP_ITEMS))
    assert is_large(body(OFF_LOOP_ITEMS + 1))
    assert is_large(body(1, parts_each=OFF_LOOP_ITEMS))
    assert not is_large("not a list") and not is_large([])


async def test_a_large_request_is_translated_off_the_loop() -> None:
    loop_thread = threading.get_ident()
    assert await run_pure(True, threading.get_ident) != loop_thread
    assert await run_pure(False, threading.get_ident) == loop_thread
