"""The fidelity invariant on the translation alone: an assistant message sent back exactly as
the gateway returned it rebuilds the model turn Gemini gave (what the turn cache would also
remember), part for part, with no server state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from response_cases import (
    CASES,
    as_base64_placeholders,
    context_for,
    read_source,
    source_path,
)
from validators import validate_gemini_request

from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.response.completion import to_openai_completion

UNARY = [c for c in CASES if isinstance(read_source(source_path(c)), dict)]


def resolved_for_hosted(hosted: tuple[tuple[str, str, str], ...], base: str | None) -> Resolved:
    images = {f"{base}/v1/files/{name}": (mime, data) for name, mime, data in hosted}
    return Resolved(images=images, hosted_base=base)


@pytest.mark.parametrize("case", UNARY, ids=[c.name for c in UNARY])
def test_returned_message_rebuilds_the_model_turn(case: Path) -> None:
    response = as_base64_placeholders(read_source(source_path(case)))
    assert isinstance(response, dict)
    ctx = context_for(case)
    completion, memo = to_openai_completion(response, ctx)
    message: dict[str, Any] = completion["choices"][0]["message"]
    body = {
        "model": ctx.model,
        "messages": [
            {"role": "user", "content": "first"},
            message,
            {"role": "user", "content": "next"},
        ],
    }
    resolved = resolved_for_hosted(memo.hosted, ctx.view.hosted_base)
    call = to_gemini_request(parse_chat_request(body), resolved, ctx.view)
    replay = [dict(p) for p in memo.turns[0].replay_parts] if memo.turns else []
    model_turns = [c["parts"] for c in call.body["contents"] if c["role"] == "model"]
    assert model_turns == ([replay] if replay else [])
    assert not [n for n in call.notes if n.startswith("signature_fallback")]
    validate_gemini_request(call.body)
