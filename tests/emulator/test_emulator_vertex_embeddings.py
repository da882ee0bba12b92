"""The emulator's Vertex embedding calls: batchEmbedContents (Gemini models, nested options) and
predict (the others), the same vectors as AI Studio's, Vertex's token counts, the checks, and
google-genai in Vertex mode embedding through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from test_emulator_vertex import BASE, metadata_token

from gateway.emulator.app import build_emulator_app
from gateway.emulator.embeddings import embedding_values

pytestmark = pytest.mark.anyio


@pytest.fixture
async def vertex() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = build_emulator_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
        token = await metadata_token(client)
        client.headers["authorization"] = f"Bearer {token}"
        yield client, app


async def test_predict_answers_predictions_with_token_counts(vertex):
    client, _ = vertex
    response = await client.post(
        f"{BASE}/text-embedding-004:predict",
        json={
            "instances": [{"content": "two words", "task_type": "CLUSTERING"}],
            "parameters": {"outputDimensionality": 16},
        },
    )
    assert response.status_code == 200
    (prediction,) = response.json()["predictions"]
    assert prediction["embeddings"]["values"] == embedding_values("two words", "CLUSTERING", 16)
    assert prediction["embeddings"]["statistics"] == {"token_count": 2, "truncated": False}


async def test_batch_embed_contents_takes_nested_options(vertex):
    client, _ = vertex
    request = {
        "content": {"role": "user", "parts": [{"text": "x"}]},
        "embedContentConfig": {"taskType": "RETRIEVAL_QUERY", "outputDimensionality": 32},
    }
    response = await client.post(
        f"{BASE}/gemini-embedding-001:batchEmbedContents", json={"requests": [request]}
    )
    assert response.status_code == 200
    assert response.json() == {
        "embeddings": [{"values": embedding_values("x", "RETRIEVAL_QUERY", 32)}]
    }


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("text-embedding-004:batchEmbedContents", {"requests": []}, 400),
        ("gemini-embedding-001:predict", {"instances": [{"content": ""}]}, 400),
        ("gemini-embedding-001:predict", {"instances": [{"content": "x"}] * 251}, 400),
        ("gemini-embedding-001:predict", {"instances": [{"content": "x", "topK": 1}]}, 400),
        ("gemini-2.5-flash:predict", {"instances": [{"content": "x"}]}, 404),
    ],
)
async def test_vertex_checks(vertex, path, body, status):
    client, _ = vertex
    response = await client.post(f"{BASE}/{path}", json=body)
    assert response.status_code == status


async def test_google_genai_in_vertex_mode_embeds_through_the_emulator():
    app = build_emulator_app()
    options = types.HttpOptions(
        base_url="http://emulator",
        async_client_args={"transport": httpx.ASGITransport(app=app)},
    )
    client = genai.Client(vertexai=True, api_key="express-key", http_options=options)
    for model in ("gemini-embedding-001", "text-embedding-004"):
        result = await client.aio.models.embed_content(
            model=model, contents=["alpha", "beta"], config={"output_dimensionality": 8}
        )
        assert [e.values for e in result.embeddings or []] == [
            embedding_values(t, "TASK_TYPE_UNSPECIFIED", 8) for t in ("alpha", "beta")
        ]
    paths = [r.path for r in app.state.emulator.requests]
    assert paths == [
        "/v1beta1/publishers/google/models/gemini-embedding-001:batchEmbedContents",
        "/v1beta1/publishers/google/models/text-embedding-004:predict",
    ]
