"""The emulator's batchEmbedContents / embedContent: deterministic vectors by (taskType, text),
outputDimensionality honoured (a prefix of the full vector), Gemini's checks, and Google's own
client embedding through it."""

from __future__ import annotations

from typing import Any

import pytest
from test_emulator_sdk import sdk_client

from gateway.emulator.embeddings import embedding_values

pytestmark = pytest.mark.anyio
URL = "/v1beta/models/{}:{}"


def request(text: str, model: str = "gemini-embedding-001", **extra: Any) -> dict[str, Any]:
    return {"model": f"models/{model}", "content": {"parts": [{"text": text}]}, **extra}


async def batch(emu: Any, requests: list[dict[str, Any]], model: str = "gemini-embedding-001"):
    return await emu.client.post(
        URL.format(model, "batchEmbedContents"), json={"requests": requests}
    )


async def test_vectors_follow_the_texts_in_order(emu: Any) -> None:
    response = await batch(emu, [request("b"), request("a"), request("b")])
    assert response.status_code == 200
    values = [e["values"] for e in response.json()["embeddings"]]
    assert values[0] == values[2] != values[1]
    assert values[1] == embedding_values("a", "TASK_TYPE_UNSPECIFIED", 3072)
    assert all(-1 <= v < 1 for v in values[0])


async def test_output_dimensionality_is_a_prefix_and_task_type_changes_the_vector(emu: Any) -> None:
    response = await batch(
        emu,
        [
            request("a", outputDimensionality=128),
            request("a", taskType="RETRIEVAL_QUERY", outputDimensionality=128),
        ],
    )
    first, second = (e["values"] for e in response.json()["embeddings"])
    assert len(first) == len(second) == 128
    assert first == embedding_values("a", "TASK_TYPE_UNSPECIFIED", 3072)[:128]
    assert first != second


async def test_text_embedding_004_is_768_wide_and_refuses_more(emu: Any) -> None:
    model = "text-embedding-004"
    ok = await batch(emu, [request("a", model)], model)
    assert len(ok.json()["embeddings"][0]["values"]) == 768
    wide = await batch(emu, [request("a", model, outputDimensionality=1024)], model)
    assert wide.status_code == 400
    assert "768" in wide.json()["error"]["message"]


@pytest.mark.parametrize(
    ("requests", "fragment"),
    [
        ([request("x")] * 101, "at most 100"),
        ([], "must not be empty"),
        ([request("x", "text-embedding-004")], "differs from the model in the URL"),
        ([request("")], "empty"),
        ([request("x", taskType="RANKING")], "TaskType"),
        ([request("x", title="T")], "RETRIEVAL_DOCUMENT"),
        ([{**request("x"), "temperature": 1}], "temperature"),
        (
            [
                {
                    "model": "models/gemini-embedding-001",
                    "content": {
                        "parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]
                    },
                }
            ],
            "only text",
        ),
    ],
)
async def test_gemini_checks(emu: Any, requests: list[Any], fragment: str) -> None:
    response = await batch(emu, requests)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fragment in response.json()["error"]["message"]


async def test_methods_belong_to_their_models(emu: Any) -> None:
    chat = await emu.client.post(
        URL.format("gemini-2.5-flash", "batchEmbedContents"), json={"requests": [request("x")]}
    )
    assert chat.status_code == 404
    assert "not supported for batchEmbedContents" in chat.json()["error"]["message"]
    generate = await emu.generate(
        "gemini-embedding-001", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    )
    assert generate.status_code == 404


async def test_fault_directive_and_queued_faults(emu: Any) -> None:
    directed = await batch(emu, [request("fine"), request("boom #fault=status:429")])
    assert directed.status_code == 429
    emu.state.queue_fault("status:500")
    assert (await batch(emu, [request("fine")])).status_code == 500
    assert (await batch(emu, [request("fine")])).status_code == 200


async def test_google_genai_embeds_through_the_emulator(app: Any) -> None:
    client = sdk_client(app)
    result = await client.aio.models.embed_content(
        model="gemini-embedding-001",
        contents=["first", "second"],
        config={"output_dimensionality": 64, "task_type": "SEMANTIC_SIMILARITY"},
    )
    assert result.embeddings is not None
    assert [e.values for e in result.embeddings] == [
        embedding_values(t, "SEMANTIC_SIMILARITY", 64) for t in ("first", "second")
    ]
    sent = app.state.emulator.requests[-1]
    assert sent.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"


async def test_embed_content_answers_one_embedding(emu: Any) -> None:
    response = await emu.client.post(
        URL.format("text-embedding-004", "embedContent"),
        json={"content": {"parts": [{"text": "solo"}]}, "outputDimensionality": 200},
    )
    assert response.status_code == 200
    assert response.json() == {
        "embedding": {"values": embedding_values("solo", "TASK_TYPE_UNSPECIFIED", 200)}
    }
