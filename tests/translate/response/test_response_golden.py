"""Gemini response → OpenAI chat.completion (unary) or chunks (stream), one golden per case.

Each case: `source.txt` (a file name in tests/fixtures/gemini-samples/) or a hand-made
`gemini.json` / `gemini.sse`; optional `context.json` ({"model", "view": ViewOptions fields,
"include_usage"}); expected `openai.json` (unary) or `openai.chunks.jsonl` (stream; a stream
that cannot finish ends with the error event the client would get). Inputs are validated with
google-genai's types, outputs with the openai SDK's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from response_cases import (
    CASES,
    SAMPLES,
    as_base64_placeholders,
    context_for,
    read_source,
    source_path,
    translate_stream,
)
from validators import validate_gemini_response, validate_openai_chunk, validate_openai_completion

from gateway.translate.response.completion import to_openai_completion


def test_every_captured_sample_response_is_used() -> None:
    used = {(c / "source.txt").read_text().strip() for c in CASES if (c / "source.txt").is_file()}
    responses = {
        p.name for p in SAMPLES.iterdir() if p.name[:2] in {f"{i:02}" for i in range(1, 11)}
    }
    assert len(responses) == 10
    assert used == responses


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_response_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    assert (case / "README.md").read_text().strip().count("\n") == 0
    source = read_source(source_path(case))
    ctx = context_for(case)
    if isinstance(source, dict):
        # Placeholders are not base64, and the gateway refuses image data that is not.
        source = as_base64_placeholders(source)
        validate_gemini_response(source)
        completion, _ = to_openai_completion(source, ctx)
        validate_openai_completion(completion)
        check_golden(case / "openai.json", completion)
    else:
        for event in source:
            validate_gemini_response(event)
        chunks = translate_stream(source, ctx)
        for chunk in chunks:
            if "error" not in chunk:
                validate_openai_chunk(chunk)
        check_golden(case / "openai.chunks.jsonl", chunks)
