"""Property-based fuzzing of request bodies through the whole app, in-process (§6 R1): whatever
the body, never a 5xx, every non-2xx is a well-formed envelope, every stream ends with [DONE],
and a body the gateway refuses never reaches Gemini.

`GATEWAY_FUZZ_EXAMPLES` raises the example count for a long run (the suite uses 300)."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Stack, emulator_stack
from tests.hardening.faults import envelope, sse_payloads

EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
MODELS = ["gemini-2.5-flash", "gemini-3-pro-image-preview", "gemini-2.5-flash-image", "nope"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
any_json = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def known_or_any(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values) | any_json


data_urls = st.one_of(
    st.builds(
        lambda m, d: f"data:{m};base64,{d}",
        st.sampled_from(["image/png", "image/jpeg", "image/gif", "text/html", "", "image/"]),
        st.text(max_size=40),
    ),
    st.builds(lambda d: f"data:{d}", st.text(max_size=40)),
    st.sampled_from(
        [
            "data:",
            "data:,",
            "data:image/png;base64,",
            "data:image/png;base64,====",
            "http://127.0.0.1/x.png",
            "file:///etc/passwd",
            "gs://b/o.png",
            "",
        ]
    ),
)
parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": known_or_any(["hi"])}),
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": st.fixed_dictionaries({"url": data_urls}) | data_urls | any_json,
        }
    ),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": any_json}),
    st.fixed_dictionaries({"type": st.just("file"), "file": any_json}),
    st.fixed_dictionaries(
        {"type": known_or_any(["refusal", "thought_signature", "video", "reasoning"])},
        optional={"text": any_json, "thought_signature": any_json},
    ),
    any_json,
)
tool_calls = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "id": known_or_any(["c1"]),
            "type": known_or_any(["function"]),
            "function": st.fixed_dictionaries(
                {},
                optional={
                    "name": known_or_any(["f"]),
                    "arguments": known_or_any(["{}", '{"a": 1}', "[]", "x"]),
                },
            ),
            "extra_content": any_json,
        },
    ),
    max_size=2,
)
messages = st.fixed_dictionaries(
    {"role": known_or_any(["user", "assistant", "system", "developer", "tool", "function"])},
    optional={
        "content": st.one_of(st.text(max_size=30), st.lists(parts, max_size=3), any_json),
        "tool_calls": tool_calls | any_json,
        "tool_call_id": known_or_any(["c1"]),
        "name": any_json,
        "extra_content": any_json,
        "images": any_json,
    },
)
chat_requests = st.fixed_dictionaries(
    {"model": known_or_any(MODELS), "messages": st.lists(messages, max_size=3) | any_json},
    optional={
        "stream": known_or_any([True, False]),
        "stream_options": any_json,
        "temperature": known_or_any([0.5, 3, -1]),
        "top_p": any_json,
        "max_tokens": any_json,
        "n": known_or_any([1, 2, 9]),
        "stop": any_json,
        "seed": any_json,
        "response_format": any_json,
        "modalities": known_or_any([["image", "text"], ["video"]]),
        "reasoning_effort": known_or_any(["low", "high", "max"]),
        "tools": any_json,
        "tool_choice": any_json,
        "image_config": any_json,
        "google": any_json,
        "extra_body": any_json,
        "generationConfig": any_json,
        "safetySettings": any_json,
        "logprobs": any_json,
        "top_logprobs": any_json,
        "unknown_param": any_json,
    },
)

# A tiny real PNG, so well-formed image parts are really well-formed.
PNG_1X1 = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
valid_parts = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, st.text(max_size=30)),
    st.just({"type": "image_url", "image_url": {"url": PNG_1X1}}),
)
valid_messages = st.one_of(
    st.builds(lambda t: {"role": "user", "content": t}, st.text(min_size=1, max_size=30)),
    st.builds(
        lambda p: {"role": "user", "content": p}, st.lists(valid_parts, min_size=1, max_size=3)
    ),
    st.builds(lambda t: {"role": "system", "content": t}, st.text(max_size=30)),
)
valid_requests = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS[:3]),
        "messages": st.lists(valid_messages, min_size=1, max_size=3).map(
            lambda ms: [*ms, {"role": "user", "content": "and now?"}]
        ),
    },
    optional={
        "stream": st.booleans(),
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "max_tokens": st.integers(1, 10_000),
        "stop": st.lists(st.text(min_size=1, max_size=5), max_size=5),
        "seed": st.integers(-(2**31), 2**31 - 1),
        "reasoning_effort": st.sampled_from(["low", "medium", "high"]),
        "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
        "stream_options": st.just({"include_usage": True}),
    },
)
FIELDS = [
    "model",
    "messages",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "seed",
    "response_format",
    "modalities",
    "reasoning_effort",
    "tools",
    "tool_choice",
    "image_config",
    "google",
    "extra_body",
    "generationConfig",
    "safetySettings",
    "logprobs",
    "top_logprobs",
]


def mutate(body: dict[str, Any], where: str, value: Any, message: int) -> dict[str, Any]:
    """One field (or one field of one message) replaced by arbitrary JSON."""
    body = {**body, "messages": [dict(m) for m in body["messages"]]}
    if where.startswith("messages."):
        target = body["messages"][message % len(body["messages"])]
        target[where.removeprefix("messages.")] = value
    else:
        body[where] = value
    return body


mutated_requests = st.builds(
    mutate,
    valid_requests,
    st.sampled_from(
        [
            *FIELDS,
            "messages.role",
            "messages.content",
            "messages.tool_calls",
            "messages.tool_call_id",
            "messages.extra_content",
        ]
    ),
    any_json | parts | st.lists(parts, max_size=2),
    st.integers(0, 3),
)


@dataclass
class Tally:
    """What the run saw, printed at the end (the long run's numbers go in the report)."""

    statuses: Counter[int] = field(default_factory=Counter)
    forwarded_then_refused: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


@dataclass
class Harness:
    runner: asyncio.Runner
    stack: Stack
    http: httpx.AsyncClient
    tally: Tally

    def post(self, path: str, body: bytes, **headers: str | bytes) -> None:
        before = len(self.stack.emulator.requests)
        response = self.runner.run(
            self.http.post(
                path, content=body, headers={"content-type": "application/json", **headers}
            )
        )
        calls = len(self.stack.emulator.requests) - before
        self.tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.tally.server_errors.append(f"{response.status_code} {body[:200]!r}")
        assert response.status_code < 500, (response.text[:300], body[:300])
        if response.status_code >= 300:
            error = envelope(response.json())
            from_gemini = error["message"].startswith("Gemini")
            if from_gemini:
                self.tally.forwarded_then_refused += 1
                self.tally.refusals[error["message"][:120]] += 1
            else:
                assert calls == 0, ("refused by the gateway yet sent upstream", error, body[:300])
        elif response.headers["content-type"].startswith("text/event-stream"):
            events = sse_payloads(response.content)
            assert events[-1] == "[DONE]"
            errors = [e for e in events if isinstance(e, dict) and "error" in e]
            assert not errors, ("an accepted stream failed in-band", errors, body[:300])
        else:
            assert isinstance(response.json(), dict)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    runner = asyncio.Runner()
    # pass-through keys (upstream "gemini" with no server key), so the bearer is fuzzed too
    stack_cm = emulator_stack(fetch_images=False, upstream="gemini")
    stack = runner.run(stack_cm.__aenter__())
    http = stack.http(headers={"authorization": "Bearer fuzz-key"})
    tally = Tally()
    try:
        yield Harness(runner, stack, http, tally)
    finally:
        runner.run(http.aclose())
        runner.run(stack_cm.__aexit__(None, None, None))
        runner.close()
        print(
            f"\nfuzz statuses {dict(sorted(tally.statuses.items()))}; forwarded then refused "
            f"by the emulator: {tally.forwarded_then_refused}; 5xx: {len(tally.server_errors)}"
        )
        for message, count in tally.refusals.most_common(10):
            print(f"  {count} × {message}")


def dumps(value: Any) -> bytes:
    """Stdlib json: orjson refuses ints over 64 bits, and those are worth sending."""
    return json.dumps(value).encode()


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 50))
@given(body=any_json)
def test_arbitrary_json(harness, body):
    harness.post("/v1/chat/completions", dumps(body))


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 50))
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes(harness, body):
    harness.post("/v1/chat/completions", body)


@FUZZ
@given(body=chat_requests)
def test_schema_shaped_chat_requests(harness, body):
    harness.post("/v1/chat/completions", dumps(body))


@FUZZ
@given(body=valid_requests | mutated_requests)
def test_valid_requests_with_one_field_wrong(harness, body):
    harness.post("/v1/chat/completions", dumps(body))


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 50))
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "prompt": known_or_any(["a red fox"]),
            "model": known_or_any(MODELS[1:3]),
            "n": known_or_any([1, 11]),
            "size": known_or_any(["1024x1024", "2x2", "auto"]),
            "response_format": known_or_any(["b64_json", "url"]),
            "quality": any_json,
            "output_format": known_or_any(["png", "webp", "bmp"]),
            "output_compression": any_json,
        },
    )
    | any_json
)
def test_images_generation_requests(harness, body):
    harness.post("/v1/images/generations", dumps(body))


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 50))
@given(key=st.text(max_size=40))
def test_arbitrary_pass_through_keys(harness, key):
    """In pass-through mode the bearer becomes an upstream header: any value must be safe."""
    value = f"Bearer {key}".encode("utf-8", "surrogatepass")
    if any(ch in value for ch in b"\r\n\x00"):
        return  # not representable as one HTTP header line
    body = dumps({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]})
    harness.post("/v1/chat/completions", body, authorization=value)
