"""Thought signatures: verification verdicts, dummies, Gemini 3's function-call rule, pairing."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from gateway.emulator.app import build_emulator_app
from gateway.emulator.signatures import Signer, canonical_bytes

pytestmark = pytest.mark.anyio

G3 = "gemini-3-pro-preview"
TOOLS = [
    {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
            {
                "name": "get_time",
                "parameters": {
                    "type": "object",
                    "properties": {"tz": {"type": "string"}},
                    "required": ["tz"],
                },
            },
        ]
    }
]
MISSING = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools "
    "to work correctly, and missing thought_signature may lead to degraded model performance. "
    "Additional data, function call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
PAIRING = (
    "Please ensure that the number of function response parts is equal to the number of function "
    "call parts of the function call turn."
)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def model_text(text: str, signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"text": text}
    if signature is not None:
        part["thoughtSignature"] = signature
    return {"role": "model", "parts": [part]}


def call(name: str, args: dict[str, Any], signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def answer(*names: str) -> dict[str, Any]:
    return {
        "role": "user",
        "parts": [{"functionResponse": {"name": n, "response": {"ok": True}}} for n in names],
    }


async def first_turn(emu: Any, prompt: str = "hello") -> dict[str, Any]:
    await emu.ok(G3, {"contents": [user(prompt)]})
    turn: dict[str, Any] = emu.state.issued[-1]
    return turn


async def test_replayed_signature_verifies(emu: Any) -> None:
    turn = await first_turn(emu)
    await emu.ok(G3, {"contents": [user("hello"), turn, user("again")]})
    assert emu.state.requests[-1].verdicts == ["ok"]
    check = emu.state.requests[-1].signature_checks[0]
    assert (check.content_index, check.part_index) == (1, 0)


async def test_url_safe_and_unpadded_forms_verify(emu: Any) -> None:
    turn = await first_turn(emu)
    signature = turn["parts"][0]["thoughtSignature"]
    variant = signature.replace("+", "-").replace("/", "_").rstrip("=")
    replay = model_text(turn["parts"][0]["text"], variant)
    await emu.ok(G3, {"contents": [user("hello"), replay, user("again")]})
    assert emu.state.requests[-1].verdicts == ["ok"]


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda t, s: (t + "!", s), id="text-edited"),
        pytest.param(
            lambda t, s: (t, ("A" if s[0] != "A" else "B") + s[1:]), id="signature-edited"
        ),
        pytest.param(lambda t, s: (t, s[:20]), id="signature-cut"),
        pytest.param(lambda t, s: (t, "not base64 at all!"), id="not-base64"),
    ],
)
async def test_corrupted_signature_is_400(emu: Any, mutation: Any) -> None:
    turn = await first_turn(emu)
    text, signature = mutation(turn["parts"][0]["text"], turn["parts"][0]["thoughtSignature"])
    message = await emu.error(
        G3, {"contents": [user("hello"), model_text(text, signature), user("again")]}
    )
    assert message == "Corrupted thought signature."
    assert emu.state.requests[-1].verdicts == ["corrupted"]


@pytest.mark.parametrize(
    "dummy",
    [
        "skip_thought_signature_validator",
        "context_engineering_is_the_way_to_go",
        base64.b64encode(b"skip_thought_signature_validator").decode(),
        base64.b64encode(b"context_engineering_is_the_way_to_go").decode(),
    ],
)
async def test_dummy_signatures_are_accepted(emu: Any, dummy: str) -> None:
    await emu.ok(G3, {"contents": [user("a"), model_text("anything", dummy), user("b")]})
    assert emu.state.requests[-1].verdicts == ["dummy"]


async def test_dropped_signature_is_recorded_as_missing(emu: Any) -> None:
    turn = await first_turn(emu)
    bare = model_text(turn["parts"][0]["text"])
    await emu.ok(G3, {"contents": [user("hello"), bare, user("again")]})  # text: not enforced
    assert emu.state.requests[-1].verdicts == ["missing"]


async def test_never_signed_parts_get_no_verdict(emu: Any) -> None:
    await emu.ok(G3, {"contents": [user("a"), model_text("hand written"), user("b")]})
    assert emu.state.requests[-1].verdicts == []


async def test_signatures_verify_across_apps_with_the_same_secret() -> None:
    part = {"text": "portable"}
    signature = Signer(b"s1").issue(part)
    assert Signer(b"s1").verify(part, signature) == "ok"
    assert Signer(b"s2").verify(part, signature) == "corrupted"
    assert canonical_bytes({"text": "x", "thought": True}) != canonical_bytes({"text": "x"})


async def test_large_signatures_are_valid_base64_and_fully_checked() -> None:
    signer = Signer(b"k", signature_bytes=300_000)
    part = {"functionCall": {"name": "f", "args": {"b": 1, "a": [1, 2]}}}
    signature = signer.issue(part)
    assert len(signature) == 300_000
    base64.b64decode(signature, validate=True)
    assert (
        signer.verify({"functionCall": {"name": "f", "args": {"a": [1, 2], "b": 1}}}, signature)
        == "ok"
    )
    middle = len(signature) // 2
    flipped = (
        signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    )
    assert signer.verify(part, flipped) == "corrupted"
    assert signer.verify(part, signature[:-4]) == "corrupted"


async def test_app_signature_bytes_option() -> None:
    app = build_emulator_app(secret=b"perf", signature_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://e", headers={"x-goog-api-key": "k"}
    ) as client:
        response = await client.post(
            f"/v1beta/models/{G3}:generateContent", json={"contents": [user("big")]}
        )
    assert len(response.json()["candidates"][0]["content"]["parts"][0]["thoughtSignature"]) == 4096


async def test_function_call_round_trip_with_signature(emu: Any) -> None:
    contents = [user("weather in Oslo")]
    await emu.ok(G3, {"contents": contents, "tools": TOOLS})
    contents += [emu.state.issued[-1], answer("get_weather")]
    data = await emu.ok(G3, {"contents": contents, "tools": TOOLS})
    assert data["candidates"][0]["content"]["parts"][0]["text"].startswith("Done: ")
    assert emu.state.requests[-1].verdicts == ["ok"]


async def test_missing_function_call_signature_exact_message(emu: Any) -> None:
    contents = [
        user("weather in Oslo"),
        {"role": "model", "parts": [call("get_weather", {"city": "Oslo"})]},
        answer("get_weather"),
    ]
    message = await emu.error(G3, {"contents": contents, "tools": TOOLS})
    assert message == MISSING.format(name="get_weather", position=2)
    assert emu.state.requests[-1].verdicts == ["missing"]


async def test_position_counts_contents_and_only_the_current_turn_is_enforced(emu: Any) -> None:
    old_step = {"role": "model", "parts": [call("get_time", {"tz": "x"})]}
    new_step = {
        "role": "model",
        "parts": [call("get_weather", {"city": "y"}, "skip_thought_signature_validator")],
    }
    contents = [
        user("first"),
        old_step,
        answer("get_time"),
        model_text("ok"),
        user("second"),
        new_step,
        answer("get_weather"),
        {"role": "model", "parts": [call("get_time", {"tz": "z"})]},
        answer("get_time"),
    ]
    assert await emu.error(G3, {"contents": contents, "tools": TOOLS}) == MISSING.format(
        name="get_time", position=8
    )
    contents[7]["parts"][0]["thoughtSignature"] = "context_engineering_is_the_way_to_go"
    await emu.ok(G3, {"contents": contents, "tools": TOOLS})  # the old unsigned step is history


async def test_only_the_first_parallel_call_needs_a_signature(emu: Any) -> None:
    both = {
        "role": "model",
        "parts": [
            call("get_weather", {"city": "a"}, "skip_thought_signature_validator"),
            call("get_time", {"tz": "b"}),
        ],
    }
    await emu.ok(
        G3,
        {"contents": [user("parallel"), both, answer("get_time", "get_weather")], "tools": TOOLS},
    )


async def test_gemini25_does_not_enforce_function_call_signatures(emu: Any) -> None:
    contents = [
        user("w"),
        {"role": "model", "parts": [call("get_weather", {"city": "a"})]},
        answer("get_weather"),
    ]
    await emu.ok("gemini-2.5-flash", {"contents": contents, "tools": TOOLS})


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param([answer("get_weather")], id="too-few-responses"),
        pytest.param([answer("get_weather", "get_time", "get_time")], id="too-many-responses"),
        pytest.param([answer("get_weather", "get_weather")], id="wrong-names"),
        pytest.param([], id="no-response-turn"),
        pytest.param([user("text instead")], id="text-instead"),
    ],
)
async def test_function_response_count_must_match(emu: Any, tail: list[dict[str, Any]]) -> None:
    sig = "skip_thought_signature_validator"
    calls = {
        "role": "model",
        "parts": [call("get_weather", {"city": "a"}, sig), call("get_time", {"tz": "b"})],
    }
    message = await emu.error(G3, {"contents": [user("go"), calls, *tail], "tools": TOOLS})
    assert message == PAIRING


async def test_function_response_without_a_call_is_400(emu: Any) -> None:
    assert (
        await emu.error("gemini-2.5-flash", {"contents": [user("go"), answer("get_weather")]})
        == PAIRING
    )
