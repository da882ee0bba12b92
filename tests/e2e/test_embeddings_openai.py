"""POST /v1/embeddings with the real OpenAI SDK against the app on the emulator: a string, a
list in order, 250 inputs in three upstream calls, dimensions, both encodings, the task type,
errors before and after the upstream call, models and metrics."""

from __future__ import annotations

import base64
import struct

import openai
import pytest
from embeddings_helpers import embed_calls, expected_vector
from validators import validate_openai_embeddings

from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio


async def test_one_string_default_encoding_is_base64_decoded_by_the_sdk(stack):
    client = stack.openai()
    raw = await client.embeddings.with_raw_response.create(
        model="gemini-embedding-001", input="The quick brown fox"
    )
    body = raw.http_response.json()
    assert isinstance(body["data"][0]["embedding"], str)  # what the SDK asked for by default
    validate_openai_embeddings(body)
    result = raw.parse()
    assert result.model == "gemini-embedding-001"
    assert result.data[0].embedding == expected_vector("The quick brown fox")
    assert result.usage.prompt_tokens == result.usage.total_tokens == 5  # ceil(19 / 4)
    (call,) = embed_calls(stack)
    assert call.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert call.query == {"prettyPrint": "false"}  # compact JSON: 0.6 × the bytes to read


async def test_a_list_comes_back_in_input_order(stack):
    texts = ["zebra", "apple", "mango", "kiwi", "banana"]
    result = await stack.openai().embeddings.create(
        model="gemini-embedding-001", input=texts, encoding_format="float"
    )
    assert [d.index for d in result.data] == [0, 1, 2, 3, 4]
    assert [d.embedding for d in result.data] == [expected_vector(t) for t in texts]


async def test_250_inputs_go_up_in_three_calls_and_come_back_in_order(stack):
    texts = [f"document number {i}" for i in range(250)]
    result = await stack.openai().embeddings.create(
        model="text-embedding-004", input=texts, dimensions=128
    )
    calls = embed_calls(stack)
    assert len(calls) == 3
    assert sorted(len(c.body["requests"]) for c in calls) == [50, 100, 100]
    sent = sorted(
        (r["content"]["parts"][0]["text"] for c in calls for r in c.body["requests"]),
        key=lambda t: int(t.rsplit(" ", 1)[1]),
    )
    assert sent == texts
    assert [d.embedding for d in result.data] == [
        expected_vector(t, "text-embedding-004", width=128) for t in texts
    ]


def decoded(embedding: list[float] | str) -> list[float]:
    """An explicit `encoding_format="base64"` makes the SDK hand the string over as it came."""
    if isinstance(embedding, list):
        return embedding
    raw = base64.b64decode(embedding)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


@pytest.mark.parametrize("encoding", ["float", "base64"])
async def test_dimensions_reach_gemini_and_shape_the_vectors(stack, encoding):
    result = await stack.openai().embeddings.create(
        model="gemini-embedding-001", input=["a", "b"], dimensions=256, encoding_format=encoding
    )
    vectors = [decoded(d.embedding) for d in result.data]
    assert isinstance(result.data[0].embedding, str) == (encoding == "base64")
    assert [len(v) for v in vectors] == [256, 256]
    assert vectors[1] == expected_vector("b", width=256)
    (call,) = embed_calls(stack)
    assert {r["outputDimensionality"] for r in call.body["requests"]} == {256}


async def test_float_encoding_is_json_numbers(stack):
    async with stack.http() as http:
        response = await http.post(
            "/v1/embeddings",
            json={"model": "text-embedding-004", "input": "x", "encoding_format": "float"},
        )
    assert response.status_code == 200
    body = response.json()
    validate_openai_embeddings(body)
    assert body["data"][0]["embedding"] == expected_vector("x", "text-embedding-004")


@pytest.mark.parametrize(
    "extra",
    [
        {"extra_body": {"google": {"task_type": "RETRIEVAL_QUERY"}}},
        {"extra_body": {"extra_body": {"google": {"taskType": "retrieval_query"}}}},
    ],
)
async def test_task_type_in_the_chat_routes_spellings(stack, extra):
    result = await stack.openai().embeddings.create(
        model="gemini-embedding-001", input="where is the fox?", **extra
    )
    (call,) = embed_calls(stack)
    assert call.body["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
    assert result.data[0].embedding == expected_vector("where is the fox?", task="RETRIEVAL_QUERY")
    assert result.data[0].embedding != expected_vector("where is the fox?")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"input": ""}, "empty string"),
        ({"input": [[1, 2, 3]]}, "check_embedding_ctx_length=False"),
        ({"input": ["ok"], "model": "gemini-2.5-flash"}, "does not make embeddings"),
        ({"input": "ok", "dimensions": 4096}, "from 128 to 3072"),
        ({"input": "ok", "extra_body": {"google": {"task_type": "RANKING"}}}, "task_type"),
    ],
)
async def test_bad_input_is_a_400_before_any_upstream_call(stack, kwargs, fragment):
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().embeddings.create(**{"model": "gemini-embedding-001", **kwargs})
    assert fragment in caught.value.message
    assert stack.emulator.requests == []


async def test_more_inputs_than_configured_is_a_400():
    async with emulator_stack(embeddings_max_inputs=10) as stack:
        with pytest.raises(openai.BadRequestError) as caught:
            await stack.openai().embeddings.create(model="gemini-embedding-001", input=["x"] * 11)
        assert "at most 10" in caught.value.message
        assert stack.emulator.requests == []


@pytest.mark.parametrize(
    ("fault", "error"), [("403", openai.PermissionDeniedError), ("404", openai.NotFoundError)]
)
async def test_one_failing_batch_fails_the_request_with_its_status(stack, fault, error):
    texts = [f"t{i}" for i in range(150)]
    texts[120] = f"t120 #fault=status:{fault}"  # the second batch
    with pytest.raises(error):
        await stack.openai().embeddings.create(model="gemini-embedding-001", input=texts)


async def test_gemini_errors_keep_their_status_and_message(stack):
    stack.emulator.queue_fault("status:503", count=2)  # the call and its one retry
    with pytest.raises(openai.InternalServerError) as caught:
        await stack.openai().embeddings.create(model="gemini-embedding-001", input="x")
    assert caught.value.status_code == 503
    assert "overloaded" in caught.value.message


async def test_models_list_shows_which_ids_embed(stack):
    models = {m.id: m async for m in stack.openai().models.list()}
    for model in ("gemini-embedding-001", "text-embedding-004"):
        assert "embedContent" in models[model].model_extra["supported_generation_methods"]
    assert (
        "embedContent" not in models["gemini-2.5-flash"].model_extra["supported_generation_methods"]
    )


async def test_metrics_count_requests_inputs_and_tokens_by_model(stack):
    await stack.openai().embeddings.create(model="gemini-embedding-001", input=["ab", "cdefg"])
    async with stack.http() as http:
        text = (await http.get("/metrics")).text
    assert 'gateway_embedding_inputs_total{model="gemini-embedding-001"} 2.0' in text
    assert 'gateway_embedding_tokens_total{model="gemini-embedding-001"} 3.0' in text
    assert (
        'gateway_requests_total{model="gemini-embedding-001",route="/v1/embeddings",status="200"}'
        in text
    )
