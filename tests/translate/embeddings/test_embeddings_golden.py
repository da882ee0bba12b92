"""OpenAI embeddings request → Gemini batchEmbedContents bodies, and Gemini replies → the
OpenAI list, one golden per case (golden/<case>/): `request.json` → `gemini.json` (the batch
bodies); with `replies.json` (one Gemini reply per batch) → `openai.json`. Bodies are validated
with google-genai's types, replies too, and the answer with the openai SDK's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from validators import (
    validate_gemini_embed_batch,
    validate_gemini_embed_response,
    validate_openai_embeddings,
)

from gateway.translate.embeddings.request import (
    batches,
    parse_embeddings_request,
    to_gemini_batch,
)
from gateway.translate.embeddings.response import (
    prompt_tokens,
    read_batch_reply,
    to_openai_embeddings,
)

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "README.md").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_embeddings_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    request = parse_embeddings_request(orjson.loads((case / "request.json").read_bytes()), 2048)
    ranges = batches(request)
    bodies = [to_gemini_batch(request, request.inputs[start:stop]) for start, stop in ranges]
    for body in bodies:
        validate_gemini_embed_batch(body, request.model)
    check_golden(case / "gemini.json", bodies)
    if not (case / "replies.json").is_file():
        return
    replies = orjson.loads((case / "replies.json").read_bytes())
    assert len(replies) == len(ranges)
    vectors = []
    for reply, (start, stop) in zip(replies, ranges, strict=True):
        validate_gemini_embed_response(reply)
        vectors.extend(read_batch_reply(reply, stop - start))
    tokens, _ = prompt_tokens(replies, request)
    answer = to_openai_embeddings(request, vectors, tokens)
    validate_openai_embeddings(answer)
    check_golden(case / "openai.json", answer)
