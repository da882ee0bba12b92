"""/v1/embeddings on Vertex AI, through the real OpenAI SDK against the emulator's Vertex mode:
gemini-embedding-001 on `:batchEmbedContents` with Vertex's nested options, text-embedding-004
on `:predict` with Vertex's token counts, a bearer token, and the same vectors as on AI Studio."""

from __future__ import annotations

import openai
import pytest
from embeddings_helpers import expected_vector
from validators import validate_vertex_embed_body

from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio
VERTEX = "/v1beta1/projects/emulator-project/locations/global/publishers/google/models/"


async def test_gemini_embedding_model_uses_vertex_batch_embed_contents():
    texts = [f"passage {i}" for i in range(150)]
    async with emulator_stack(use_vertexai=True) as stack:
        result = await stack.openai().embeddings.create(
            model="gemini-embedding-001",
            input=texts,
            dimensions=128,
            extra_body={"google": {"task_type": "RETRIEVAL_DOCUMENT"}},
        )
        calls = [r for r in stack.emulator.requests if r.method == "batchEmbedContents"]
    assert [c.path for c in calls] == [VERTEX + "gemini-embedding-001:batchEmbedContents"] * 2
    for call in calls:
        assert call.headers["authorization"].startswith("Bearer ya29.emulator-")
        validate_vertex_embed_body(call.body, "batchEmbedContents")
    assert [d.embedding for d in result.data] == [
        expected_vector(t, task="RETRIEVAL_DOCUMENT", width=128) for t in texts
    ]


async def test_text_embedding_004_uses_predict_and_vertex_counts_tokens():
    texts = ["one two three", "four"]
    async with emulator_stack(use_vertexai=True) as stack:
        result = await stack.openai().embeddings.create(
            model="text-embedding-004", input=texts, encoding_format="float"
        )
        (call,) = stack.emulator.requests
    assert call.path == VERTEX + "text-embedding-004:predict"
    assert call.query == {"prettyPrint": "false"}
    validate_vertex_embed_body(call.body, "predict")
    assert [d.embedding for d in result.data] == [
        expected_vector(t, "text-embedding-004") for t in texts
    ]
    assert result.usage.prompt_tokens == 3 + 1  # the emulator's word count, not ceil(chars / 4)


async def test_express_mode_and_errors_keep_their_status():
    async with emulator_stack(use_vertexai=True, api_keys=("vertex-express-key",)) as stack:
        await stack.openai().embeddings.create(model="text-embedding-004", input="x")
        (call,) = stack.emulator.requests
        assert call.path == "/v1beta1/publishers/google/models/text-embedding-004:predict"
        assert call.headers["x-goog-api-key"] == "vertex-express-key"
        with pytest.raises(openai.RateLimitError):
            await stack.openai().embeddings.create(
                model="gemini-embedding-001", input=["fine", "no #fault=status:429"]
            )
