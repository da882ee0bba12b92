"""Gemini function calls (and built-in tool output) → OpenAI tool_calls, unary and streamed.

Driven by the real captured payloads (gemini-samples 06, 07, 09) and by hand-made turns for
the shapes the samples lack (parallel calls, Gemini's own call ids, code execution,
grounding). Every output is validated with the openai SDK's types; streams are accumulated
both by the SDK's own accumulator and by hand, and must equal the unary message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.lib.streaming.chat._completions import ChatCompletionStreamState
from validators import validate_openai_chunk, validate_openai_completion

from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.response.completion import to_openai_completion
from gateway.translate.response.context import ResponseContext
from gateway.translate.response.stream import ChunkTranslator
from gateway.translate.turn_view import ViewOptions

Json = dict[str, Any]

SIG_06 = (
    "Eqo+Cqc+Ab4+9vtgONaaz6qwy6WXdp7gCd2w0X+Wz2gaBgY0Gv6A12JKo0y5vQwf9YQFyhMbKr1E9m17VT6HXd7jXzja"
    "GYaE"
)


def ctx(
    completion_id: str = "chatcmpl-abc", model: str = "gemini-3-pro-preview"
) -> ResponseContext:
    return ResponseContext(completion_id=completion_id, created=1, model=model, include_usage=True)


def sse_events(path: Path) -> list[Json]:
    text = path.read_text().replace("\r\n", "\n")
    return [orjson.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def jsonl_events(path: Path) -> list[Json]:
    return [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stream(events: list[Json], context: ResponseContext | None = None) -> list[Json]:
    translator = ChunkTranslator(context or ctx())
    chunks = [c for event in events for c in translator.feed(event)]
    chunks += translator.finish()
    for chunk in chunks:
        validate_openai_chunk(chunk)
    return chunks


def by_sdk(chunks: list[Json]) -> Any:
    """The openai SDK's own accumulator (what `client.chat.completions.stream` uses)."""
    state = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(validate_openai_chunk(chunk))
    return state.get_final_completion().choices[0].message


def sdk_calls(message: Any) -> list[Json]:
    """Accumulated tool calls as plain dicts (the accumulator's own `index` left out)."""
    calls = [c.model_dump(exclude_none=True) for c in message.tool_calls or []]
    return [{k: v for k, v in c.items() if k != "index"} for c in calls]


def by_hand(chunks: list[Json]) -> Json:
    """What a client loop does: concatenate content/arguments per tool-call index."""
    message: Json = {"content": "", "reasoning": "", "tool_calls": {}, "finish": None}
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            message["content"] += delta.get("content") or ""
            message["reasoning"] += delta.get("reasoning_content") or ""
            message["finish"] = choice["finish_reason"] or message["finish"]
            for piece in delta.get("tool_calls") or []:
                slot = message["tool_calls"].setdefault(
                    piece["index"], {"id": "", "name": "", "arguments": "", "extra": None}
                )
                slot["id"] += piece.get("id") or ""
                slot["name"] += (piece.get("function") or {}).get("name") or ""
                slot["arguments"] += (piece.get("function") or {}).get("arguments") or ""
                slot["extra"] = piece.get("extra_content") or slot["extra"]
    return message


def unary(response: Json, context: ResponseContext | None = None) -> Json:
    completion, _ = to_openai_completion(response, context or ctx())
    validate_openai_completion(completion)
    return completion


def as_unary(events: list[Json]) -> Json:
    """The same parts in one response (what generateContent would have returned)."""
    parts = [
        p for e in events for c in e.get("candidates", []) for p in c["content"].get("parts", [])
    ]
    last = events[-1]["candidates"][0]
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": last["finishReason"]}
        ],
        "usageMetadata": events[-1]["usageMetadata"],
    }


# -- the captured samples ---------------------------------------------------------------------


def test_sample_06_unary_function_call(samples_dir: Path) -> None:
    response = orjson.loads(
        (samples_dir / "06_gemini-3-pro-preview_unary_functionCall-signature.json").read_bytes()
    )
    completion = unary(response)
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    (tool_call,) = message["tool_calls"]
    assert tool_call["id"].startswith("call_") and tool_call["id"].endswith("_0")
    assert tool_call["type"] == "function"
    assert tool_call["function"] == {"name": "weather", "arguments": '{"location":"San Francisco"}'}
    assert tool_call["extra_content"] == {"google": {"thought_signature": SIG_06}}
    assert message["extra_content"]["google"]["parts"] == [{"tool_call": 0}]
    assert completion["usage"]["completion_tokens"] == 15 + 1801
    assert completion["usage"]["completion_tokens_details"]["reasoning_tokens"] == 1801


def test_sample_07_stream_matches_unary(samples_dir: Path) -> None:
    events = jsonl_events(
        samples_dir / "07_gemini-3-pro-preview_stream_functionCall-signature.chunks.jsonl"
    )
    chunks = stream(events)
    signature = events[0]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    calls = [
        c
        for ch in chunks
        for choice in ch["choices"]
        for c in choice["delta"].get("tool_calls") or []
    ]
    assert len(calls) == 1 and calls[0]["index"] == 0  # one delta per call, signature once
    assert calls[0]["extra_content"] == {"google": {"thought_signature": signature}}
    sdk = by_sdk(chunks)
    hand = by_hand(chunks)
    expected = unary(as_unary(events))["choices"][0]["message"]["tool_calls"]
    assert sdk_calls(sdk) == expected
    assert hand["finish"] == "tool_calls"
    assert [
        (c["id"], c["name"], orjson.loads(c["arguments"]), c["extra"])
        for c in hand["tool_calls"].values()
    ] == [
        (expected[0]["id"], "weather", {"location": "San Francisco"}, expected[0]["extra_content"])
    ]
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 804


def test_sample_09_thought_summaries_then_a_call(samples_dir: Path) -> None:
    path = samples_dir / "09_gemini-2.5-flash_stream_thought-summary-functionCall-signature.sse.txt"
    events = sse_events(path)
    context = ctx(model="gemini-2.5-flash")
    chunks = stream(events, context)
    hand = by_hand(chunks)
    assert hand["reasoning"].startswith("**Calculating the Days**")
    assert "**Determining the Approach**" in hand["reasoning"]
    assert hand["content"] == ""
    assert hand["finish"] == "tool_calls"
    (call,) = hand["tool_calls"].values()
    assert (call["name"], call["arguments"]) == ("now", "{}")
    message = unary(as_unary(events), context)["choices"][0]["message"]
    assert message["reasoning_content"] == hand["reasoning"]
    assert message["tool_calls"][0]["id"] == call["id"]
    assert message["tool_calls"][0]["extra_content"] == call["extra"]
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 168


# -- ids, parallel calls, arguments -------------------------------------------------------------


def fc(name: str, args: Json, signature: str | None = None, call_id: str | None = None) -> Json:
    call: Json = {"name": name, "args": args}
    if call_id is not None:
        call["id"] = call_id
    part: Json = {"functionCall": call}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def event(parts: list[Json], finish: str | None = None) -> Json:
    candidate: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 3}}


PARALLEL = [fc("get_weather", {"city": "Paris", "days": [1, 2]}, "U0lHLTE="), fc("get_time", {})]


def test_ids_are_stable_per_completion_and_distinct_across_completions() -> None:
    response = event(PARALLEL, "STOP")
    first = unary(response)["choices"][0]["message"]["tool_calls"]
    again = unary(response)["choices"][0]["message"]["tool_calls"]
    other = unary(response, ctx("chatcmpl-other"))["choices"][0]["message"]["tool_calls"]
    ids = [c["id"] for c in first]
    assert ids == [c["id"] for c in again]
    assert len(set(ids)) == 2 and ids[0].endswith("_0") and ids[1].endswith("_1")
    assert not set(ids) & {c["id"] for c in other}


def test_geminis_own_call_ids_are_kept_and_replayed() -> None:
    response = event([fc("get_time", {}, "U0lH", call_id="gem-7")], "STOP")
    completion, _ = to_openai_completion(response, ctx())
    message = completion["choices"][0]["message"]
    assert message["tool_calls"][0]["id"] == "gem-7"
    follow_up = {
        "model": "gemini-3-pro-preview",
        "messages": [
            {"role": "user", "content": "time?"},
            message,
            {"role": "tool", "tool_call_id": "gem-7", "content": "noon"},
        ],
    }
    body = to_gemini_request(parse_chat_request(follow_up), Resolved(), ViewOptions()).body
    assert body["contents"][1]["parts"] == [fc("get_time", {}, "U0lH", call_id="gem-7")]


@pytest.mark.parametrize("split", [False, True], ids=["one-event", "one-event-per-call"])
def test_parallel_calls_stream(split: bool) -> None:
    events = [event([PARALLEL[0]]), event([PARALLEL[1]]), event([{"text": ""}], "STOP")]
    if not split:
        events = [event(PARALLEL), event([{"text": ""}], "STOP")]
    chunks = stream(events)
    hand = by_hand(chunks)
    assert hand["finish"] == "tool_calls"
    assert [orjson.loads(c["arguments"]) for c in hand["tool_calls"].values()] == [
        {"city": "Paris", "days": [1, 2]},
        {},
    ]
    assert [c["extra"] for c in hand["tool_calls"].values()] == [
        {"google": {"thought_signature": "U0lHLTE="}},
        None,
    ]
    sdk = by_sdk(chunks)
    assert sdk_calls(sdk) == unary(event(PARALLEL, "STOP"))["choices"][0]["message"]["tool_calls"]


def test_arguments_keep_unicode_and_nesting() -> None:
    args = {"q": "crème brûlée 🍮", "n": 1.5, "deep": {"list": [None, True, "x"]}}
    (call,) = unary(event([fc("search", args)], "STOP"))["choices"][0]["message"]["tool_calls"]
    assert orjson.loads(call["function"]["arguments"]) == args


def test_text_before_a_call_and_max_tokens() -> None:
    parts = [{"text": "Let me check."}, fc("get_time", {}, "U0lH")]
    message = unary(event(parts, "STOP"))["choices"][0]
    assert message["message"]["content"] == "Let me check."
    assert message["finish_reason"] == "tool_calls"
    assert unary(event(parts, "MAX_TOKENS"))["choices"][0]["finish_reason"] == "length"


def test_memo_remembers_the_call_turn_for_clients_that_drop_signatures() -> None:
    _, memo = to_openai_completion(event(PARALLEL, "STOP"), ctx())
    (turn,) = memo.turns
    assert list(turn.replay_parts) == PARALLEL
    assert len(turn.tool_call_ids) == 2


# -- built-in tool output --------------------------------------------------------------------------

CODE_AND_GROUNDING = [
    {"executableCode": {"language": "PYTHON", "code": "print(6 * 7)"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
    {"text": "The answer is 42."},
]
GROUNDING = {
    "webSearchQueries": ["six times seven"],
    "groundingChunks": [{"web": {"uri": "https://example.com/math", "title": "Math"}}],
}


def test_code_execution_and_grounding_unary_equals_stream() -> None:
    response = event(CODE_AND_GROUNDING, "STOP")
    response["candidates"][0]["groundingMetadata"] = GROUNDING
    message = unary(response)["choices"][0]["message"]
    assert message["content"] == (
        "\n```python\nprint(6 * 7)\n```\n\n```output\n42\n\n```\nThe answer is 42."
    )
    assert message["annotations"] == [
        {
            "type": "url_citation",
            "url_citation": {
                "url": "https://example.com/math",
                "title": "Math",
                "start_index": 0,
                "end_index": 0,
            },
        }
    ]
    assert message["extra_content"]["google"]["grounding_metadata"] == GROUNDING
    events = [event(CODE_AND_GROUNDING[:2]), event(CODE_AND_GROUNDING[2:], "STOP")]
    events[-1]["candidates"][0]["groundingMetadata"] = GROUNDING
    chunks = stream(events)
    assert by_hand(chunks)["content"] == message["content"]
    final = chunks[-2]["choices"][0]["delta"]
    assert final["annotations"] == message["annotations"]
    assert final["extra_content"]["google"]["grounding_metadata"] == GROUNDING


# -- the round trip: what a client sends back replays the same model turn ------------------------


def replayed_model_turn(assistant: Json) -> list[Json]:
    follow_up = {
        "model": "gemini-3-pro-preview",
        "messages": [
            {"role": "user", "content": "Paris weather and the time, parallel"},
            assistant,
            {"role": "tool", "tool_call_id": assistant["tool_calls"][0]["id"], "content": "21"},
            {"role": "tool", "tool_call_id": assistant["tool_calls"][1]["id"], "content": "noon"},
        ],
    }
    body = to_gemini_request(parse_chat_request(follow_up), Resolved(), ViewOptions()).body
    parts: list[Json] = body["contents"][1]["parts"]
    return parts


def test_unary_and_streamed_messages_replay_the_exact_call_turn() -> None:
    unary_message = unary(event(PARALLEL, "STOP"))["choices"][0]["message"]
    assert replayed_model_turn(unary_message) == PARALLEL
    chunks = stream([event(PARALLEL), event([{"text": ""}], "STOP")])
    sdk_message = by_sdk(chunks).model_dump(exclude_none=True)
    assert replayed_model_turn(sdk_message) == PARALLEL
    hand = by_hand(chunks)
    hand_message = {
        "role": "assistant",
        "content": hand["content"] or None,
        "tool_calls": [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
                **({"extra_content": c["extra"]} if c["extra"] else {}),
            }
            for c in hand["tool_calls"].values()
        ],
    }
    assert replayed_model_turn(hand_message) == PARALLEL
