"""The native embedding methods on Vertex AI, one golden per case (native_golden/<case>/):
`request.json` (the model, method and Gemini API body a client sent) → `vertex.json` (the call
Vertex is sent); with `reply.json` (Vertex's answer) → `gemini.json` (the Gemini API answer and
Vertex's token count). Vertex bodies are validated as google-genai sends them in Vertex mode,
answers with google-genai's EmbedContentResponse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from golden import case_dirs
from validators import validate_gemini_embed_response, validate_vertex_embed_body

from gateway.translate.embeddings.native import check_native_embed, from_vertex, to_vertex

CASES = case_dirs(Path(__file__).parent / "native_golden")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_native_embeddings_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    sent = orjson.loads((case / "request.json").read_bytes())
    request = check_native_embed(sent["body"], sent["model"], sent["method"])
    wire, body = to_vertex(request)
    validate_vertex_embed_body(body, wire.method)
    check_golden(case / "vertex.json", {"method": wire.method, "body": body})
    answer, tokens = from_vertex(request, wire, (case / "reply.json").read_bytes())
    answer = orjson.loads(orjson.dumps(answer))  # as the client reads it
    embeddings = [answer["embedding"]] if "embedding" in answer else answer["embeddings"]
    validate_gemini_embed_response({**answer, "embeddings": embeddings})
    check_golden(case / "gemini.json", {"answer": answer, "tokens": tokens})
