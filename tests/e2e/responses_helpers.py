"""Shared checks for the Responses API end-to-end tests: the openai SDK's own types, and the
raw event stream's grammar."""

from __future__ import annotations

from typing import Any

import orjson
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def validate_response(data: dict[str, Any]) -> Response:
    return Response.model_validate(data)


def parse_events(text: str) -> list[dict[str, Any]]:
    """SSE frames → event objects, checking each `event:` name equals its `type`."""
    events: list[dict[str, Any]] = []
    for frame in text.split("\n\n"):
        lines = [line for line in frame.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), frame[:200]
        event = orjson.loads(lines[1][6:])
        assert event["type"] == lines[0][7:]
        events.append(event)
    return events


def check_grammar(events: list[dict[str, Any]]) -> None:
    """created first, one terminal event last, sequence numbers 0..n-1, every item added before
    its deltas and done exactly once, every event valid for the SDK."""
    assert events[0]["type"] == "response.created"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    terminal = {"response.completed", "response.incomplete", "response.failed"}
    assert events[-1]["type"] in terminal
    assert not any(e["type"] in terminal for e in events[:-1])
    added: set[int] = set()
    done: list[int] = []
    for event in events:
        EVENTS.validate_python(event)
        if event["type"] == "response.output_item.added":
            added.add(event["output_index"])
        elif event["type"] == "response.output_item.done":
            done.append(event["output_index"])
        elif "output_index" in event:
            assert event["output_index"] in added, event["type"]
    if events[-1]["type"] != "response.failed":
        assert sorted(done) == sorted(added) == list(range(len(added)))
