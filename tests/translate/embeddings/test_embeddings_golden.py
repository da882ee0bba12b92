"""OpenAI embeddings request → Gemini bodies, and Gemini replies → the OpenAI list, one golden
per case (golden/<case>/): `request.json` → `gemini.json` (the body of each call); with
`replies.json` (one Gemini reply per call, read from its bytes as the gateway reads it) →
`openai.json`. A case with `backend.txt` saying `vertex` is translated for Vertex AI
(translate/embeddings/wire.py). Bodies are validated with google-genai's types, AI Studio
replies too, and the answer with the openai SDK's."""

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
    validate_vertex_embed_body,
)

from gateway.translate.embeddings.request import batches, parse_embeddings_request
from gateway.translate.embeddings.response import prompt_tokens, to_openai_embeddings
from gateway.translate.embeddings.wire import read_reply, wire_for

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "README.md").is_file())


def is_vertex(case: Path) -> bool:
    backend = case / "backend.txt"
    return backend.is_file() and backend.read_text().strip() == "vertex"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_embeddings_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    request = parse_embeddings_request(orjson.loads((case / "request.json").read_bytes()), 2048)
    vertex = is_vertex(case)
    wire = wire_for(request.model, vertex)
    ranges = batches(request)
    bodies = [wire.body(request, request.inputs[start:stop]) for start, stop in ranges]
    for body in bodies:
        if vertex:
            validate_vertex_embed_body(body, wire.method)
        else:
            validate_gemini_embed_batch(body, request.model)
    check_golden(case / "gemini.json", {"method": wire.method, "bodies": bodies})
    if not (case / "replies.json").is_file():
        return
    replies = orjson.loads((case / "replies.json").read_bytes())
    assert len(replies) == len(ranges)
    vectors, counts, texts = [], [], {}
    for reply, (start, stop) in zip(replies, ranges, strict=True):
        if wire.method == "batchEmbedContents":
            validate_gemini_embed_response(reply)
        raw = orjson.dumps(reply)  # read from bytes, as the gateway reads them
        got, count, found = read_reply(wire, raw, stop - start, request.encoding == "float")
        vectors.extend(got)
        counts.append(count)
        texts.update(found)
    tokens, _ = prompt_tokens(counts, request)
    answer = orjson.loads(orjson.dumps(to_openai_embeddings(request, vectors, tokens, texts)))
    validate_openai_embeddings(answer)
    check_golden(case / "openai.json", answer)
