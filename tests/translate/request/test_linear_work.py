"""Translation does linear work in the number of messages (issue 13): merging N consecutive
same-role messages once copied the whole parts list per merge, N² work (100k one-character
messages froze the event loop for ~12 s).

Work is measured as bytes allocated, not time: every opcode run in translate/ samples the traced
heap and the rises are summed. A list copied on each merge shows up as its size allocated again
and again; the count is the same on every run and machine, so the ratio between N and 4N
messages tells linear (~4) from quadratic (~16) without a timed assertion."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from types import FrameType
from typing import Any

from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.turn_view import ViewOptions

N = 250


def allocated_bytes(work: Callable[[], Any]) -> int:
    total = 0
    last = 0

    def on_opcode(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal total, last
        if event == "opcode":
            current = tracemalloc.get_traced_memory()[0]
            total += max(0, current - last)
            last = current
        return on_opcode

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        if not frame.f_globals.get("__name__", "").startswith("gateway.translate"):
            return None
        frame.f_trace_opcodes = True
        return on_opcode

    tracemalloc.start()
    last = tracemalloc.get_traced_memory()[0]
    sys.settrace(on_call)
    try:
        work()
    finally:
        sys.settrace(None)
        tracemalloc.stop()
    return total


def translation_work(messages: list[dict[str, Any]]) -> int:
    """Parsing (one pass of checks and digests) is left out: it is not where merging happens,
    and tracing it would cost seconds."""
    chat = parse_chat_request({"model": "gemini-2.5-flash", "messages": messages})
    options = ViewOptions()
    return allocated_bytes(lambda: to_gemini_request(chat, Resolved(), options))


def work_ratio(make: Callable[[int], list[dict[str, Any]]]) -> float:
    return translation_work(make(4 * N)) / translation_work(make(N))


def test_consecutive_user_messages_merge_in_linear_work() -> None:
    ratio = work_ratio(lambda n: [{"role": "user", "content": "x"} for _ in range(n)])
    assert ratio < 6, f"4x the messages cost {ratio:.1f}x the work"
