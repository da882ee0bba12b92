"""The native embedding methods while the gateway calls Vertex AI (express mode, the emulator
and the gateway on loopback sockets): google-genai in AI Studio mode gets the Gemini API's
shapes back, while Vertex is sent the calls it serves for the model — `:batchEmbedContents`
with nested options for Gemini embedding models, `:predict` for the older ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from embeddings_helpers import expected_vector
from google import genai
from google.genai import errors, types
from validators import validate_gemini_embed_response, validate_vertex_embed_body

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import make_settings
from tests.hardening.loopback import serve

pytestmark = pytest.mark.slow
KEY = "vertex-express-key"
CLIENT = "client-key"
EXPRESS = "/v1beta1/publishers/google/models/"


class Running:
    def __init__(self, url: str, emulator: Any) -> None:
        self.url = url
        self.emulator = emulator
        options = types.HttpOptions(base_url=url, api_version="v1beta")
        self.client = genai.Client(api_key=CLIENT, http_options=options)


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    emulator_app = build_emulator_app()
    with serve(emulator_app) as emulator_url:
        settings = make_settings(
            upstream="gemini",
            use_vertexai=True,
            vertex_base_url=emulator_url,
            api_keys=(KEY,),
            client_keys=(CLIENT,),
            max_retries=0,
        )
        with serve(build_app(settings)) as url:
            yield Running(url, emulator_app.state.emulator)


@pytest.fixture(autouse=True)
def fresh(running: Running) -> None:
    running.emulator.reset()


def test_gemini_embedding_model_goes_to_vertex_batch_embed_contents(running: Running) -> None:
    texts = ["alpha", "beta", "gamma"]
    reply = running.client.models.embed_content(
        model="gemini-embedding-001",
        contents=texts,
        config={"task_type": "RETRIEVAL_QUERY", "output_dimensionality": 128},
    )
    assert reply.embeddings and [e.values for e in reply.embeddings] == [
        expected_vector(t, task="RETRIEVAL_QUERY", width=128) for t in texts
    ]
    (call,) = running.emulator.requests
    assert call.path == EXPRESS + "gemini-embedding-001:batchEmbedContents"
    assert call.headers["x-goog-api-key"] == KEY  # the gateway's credential, not the client's
    configs = validate_vertex_embed_body(call.body, "batchEmbedContents")
    assert [c.model_dump(exclude_none=True) for c in configs] == [
        {"task_type": "RETRIEVAL_QUERY", "output_dimensionality": 128}
    ] * 3


def test_text_embedding_004_goes_to_predict_with_vertex_token_counts(running: Running) -> None:
    texts = ["one two three", "four"]
    reply = running.client.models.embed_content(model="text-embedding-004", contents=texts)
    assert reply.embeddings and [e.values for e in reply.embeddings] == [
        expected_vector(t, "text-embedding-004") for t in texts
    ]
    assert reply.usage_metadata and reply.usage_metadata.prompt_token_count == 3 + 1
    (call,) = running.emulator.requests
    assert call.path == EXPRESS + "text-embedding-004:predict"
    validate_vertex_embed_body(call.body, "predict")


def test_raw_embed_content_answers_in_the_gemini_api_shape(running: Running) -> None:
    body = {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "raw "}, {"text": "rest"}]},
        "taskType": "SEMANTIC_SIMILARITY",
    }
    response = httpx.post(
        f"{running.url}/v1/models/gemini-embedding-001:embedContent?key={CLIENT}", json=body
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {
        "embedding": {"values": expected_vector("raw rest", task="SEMANTIC_SIMILARITY")}
    }
    validate_gemini_embed_response({"embeddings": [answer["embedding"]]})
    (call,) = running.emulator.requests
    assert call.path == EXPRESS + "gemini-embedding-001:batchEmbedContents"
    validate_vertex_embed_body(call.body, "batchEmbedContents")


def test_what_vertex_cannot_take_is_a_400_before_any_upstream_call(running: Running) -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    response = httpx.post(
        f"{running.url}/v1beta/models/gemini-embedding-001:embedContent",
        json={"content": {"parts": [image]}},
        headers={"x-goog-api-key": CLIENT},
    )
    assert response.status_code == 400
    assert "text parts only" in response.json()["error"]["message"]
    mixed = {
        "requests": [
            {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 128},
            {"content": {"parts": [{"text": "b"}]}, "outputDimensionality": 256},
        ]
    }
    response = httpx.post(
        f"{running.url}/v1beta/models/text-embedding-004:batchEmbedContents",
        json=mixed,
        headers={"x-goog-api-key": CLIENT},
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert running.emulator.requests == []


def test_a_vertex_429_keeps_its_status_and_googles_shape(running: Running) -> None:
    with pytest.raises(errors.ClientError) as caught:
        running.client.models.embed_content(
            model="gemini-embedding-001", contents=["x #fault=status:429"]
        )
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
