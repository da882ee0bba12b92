"""Well-formed JSON with garbage inside, from the upstream (issue 13): `{"text": 5}`, an image
typed `image/pñg`, image data that is a number, an answer without candidates. It is Gemini's
fault, so a 502 `upstream_error` naming what is wrong (in a stream: the final error event, then
[DONE]), never a 500 and never a data URL built from the garbage; the unary and the streamed
answer say the same thing."""

from __future__ import annotations

import pytest

from tests.conftest import emulator_stack
from tests.e2e.responses_helpers import check_grammar, parse_events
from tests.hardening.faults import assert_ends_with_error, chat

pytestmark = pytest.mark.anyio

GARBAGE = {
    "bad_text": "parts[0].text must be a string, got int",
    "bad_mime": "parts[0].inlineData.mimeType is not a media type",
    "bad_data": "parts[0].inlineData.data must be a base64 string, got int",
    "no_candidates": "holds no candidates and no promptFeedback.blockReason",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_garbage_from_gemini_is_a_502_saying_what_is_wrong_in_both_forms(kind: str) -> None:
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault(kind, count=2)
        unary = await chat(http)
        streamed = await chat(http, stream=True)
        assert len(stack.emulator.requests) == 2  # Gemini's garbage is not retried

    assert unary.status == 502, unary.body[:300]
    error = unary.error
    assert (error["type"], error["code"]) == ("server_error", "upstream_error")
    assert GARBAGE[kind] in error["message"]
    assert b"data:image" not in unary.body
    assert assert_ends_with_error(streamed, "upstream_error") == error
    assert b"data:image" not in streamed.body


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_garbage_from_gemini_on_the_responses_api_is_a_502_or_a_failed_stream(
    kind: str,
) -> None:
    """The Responses API says the same: a 502 envelope, and a stream ending in
    `response.failed` (an answer without candidates was a 200 'completed' with no output)."""
    body = {"model": "gemini-2.5-flash", "input": "hi"}
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault(kind, count=2)
        unary = await http.post("/v1/responses", json=body)
        streamed = await http.post("/v1/responses", json={**body, "stream": True})

    assert unary.status_code == 502, unary.text[:300]
    error = unary.json()["error"]
    assert (error["type"], error["code"]) == ("server_error", "upstream_error")
    assert GARBAGE[kind] in error["message"]
    events = parse_events(streamed.text)
    check_grammar(events)
    assert events[-1]["type"] == "response.failed"
    assert GARBAGE[kind] in events[-1]["response"]["error"]["message"]
