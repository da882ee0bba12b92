"""google-genai's `models.embed_content` and raw REST on the native embedding methods
(`:batchEmbedContents`, `:embedContent`), gateway and emulator on loopback sockets: vectors in
order (the emulator's are deterministic), options reaching the upstream body, the body relayed
as sent, the client's mistakes as Google's 400 before any upstream call, Gemini's errors with
their status, keys and metrics as on the other native routes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from embeddings_helpers import embed_calls, expected_vector
from google.genai import errors
from validators import validate_gemini_embed_batch

from tests.e2e.native_stack import CLIENT_KEY, SERVER_KEY, NativeStack, native_stack

pytestmark = pytest.mark.slow
VERSIONS = ("v1beta", "v1")
MODEL = "gemini-embedding-001"
KEY = {"x-goog-api-key": CLIENT_KEY}
BEARER = {"authorization": f"Bearer {CLIENT_KEY}"}


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    with native_stack() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(stack: NativeStack) -> None:
    stack.emulator.reset()


def google_error(response: httpx.Response, status: int) -> str:
    """The message of a Google-shaped error with `status`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "status"} and error["code"] == status
    return str(error["message"])


@pytest.mark.parametrize("version", VERSIONS)
def test_one_string_and_a_list_in_order(stack: NativeStack, version: str) -> None:
    client = stack.client(version)
    one = client.models.embed_content(model=MODEL, contents="a lone string")
    texts = ["first text", "second text", "third text"]
    many = client.models.embed_content(model=MODEL, contents=texts)
    assert one.embeddings and one.embeddings[0].values == expected_vector("a lone string")
    assert many.embeddings and [e.values for e in many.embeddings] == [
        expected_vector(text) for text in texts
    ]
    calls = embed_calls(stack)  # each body validated with google-genai's types
    # The gateway calls its own upstream version, with its server key, whichever the client used.
    assert [c.path for c in calls] == [f"/v1beta/models/{MODEL}:batchEmbedContents"] * 2
    assert {c.headers.get("x-goog-api-key") for c in calls} == {SERVER_KEY}


def test_task_type_title_and_output_dimensionality_reach_the_upstream(stack: NativeStack) -> None:
    client = stack.client()  # held: a collected client closes its connection pool
    reply = client.models.embed_content(
        model=MODEL,
        contents=["doc one", "doc two"],
        config={"output_dimensionality": 256, "task_type": "RETRIEVAL_DOCUMENT", "title": "T"},
    )
    (call,) = stack.emulator.requests
    configs = validate_gemini_embed_batch(call.body, MODEL)  # google-genai's own types
    assert [c.model_dump(exclude_none=True) for c in configs] == [
        {"task_type": "RETRIEVAL_DOCUMENT", "title": "T", "output_dimensionality": 256}
    ] * 2
    assert reply.embeddings and [e.values for e in reply.embeddings] == [
        expected_vector(t, task="RETRIEVAL_DOCUMENT", width=256) for t in ("doc one", "doc two")
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_raw_embed_content_is_relayed_as_sent(stack: NativeStack, version: str) -> None:
    body = b'{"content": {"parts": [{"text": "raw rest"}]},  "outputDimensionality": 128}'
    response = httpx.post(
        f"{stack.url}/{version}/models/{MODEL}:embedContent?key={CLIENT_KEY}",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"embedding": {"values": expected_vector("raw rest", width=128)}}
    (call,) = stack.emulator.requests
    assert call.path == f"/v1beta/models/{MODEL}:embedContent"
    assert call.body == orjson.loads(body)
    assert call.query == {"prettyPrint": "false"}  # the client's `key` never leaves the gateway
    assert call.headers["x-goog-api-key"] == SERVER_KEY


@pytest.mark.parametrize(
    ("method", "body", "names"),
    [
        ("batchEmbedContents", {}, "'requests'"),
        ("batchEmbedContents", {"requests": []}, "'requests'"),
        ("batchEmbedContents", {"requests": ["text"]}, "requests[0]"),
        ("batchEmbedContents", {"requests": [{"content": {"parts": []}}]}, "parts"),
        ("batchEmbedContents", {"requests": [{"content": "a string"}]}, "requests[0].content"),
        ("batchEmbedContents", {"requests": [{"content": {"parts": [{"text": ""}]}}]}, "empty"),
        (
            "batchEmbedContents",
            {"requests": [{"content": {"parts": [{"text": "x"}]}}] * 101},
            "100",
        ),
        ("embedContent", [], "JSON object"),
        ("embedContent", {"content": {"parts": [{"text": "x"}]}, "taskType": "NOPE"}, "taskType"),
        ("embedContent", {"content": {"parts": [{"text": 1}]}}, "text"),
        (
            "embedContent",
            {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": "64"},
            "outputDimensionality",
        ),
        (
            "embedContent",
            {"content": {"parts": [{"text": "x"}]}, "model": "models/text-embedding-004"},
            "not the model in the URL",
        ),
    ],
)
def test_a_body_of_the_wrong_shape_is_googles_400_before_any_upstream_call(
    stack: NativeStack, method: str, body: object, names: str
) -> None:
    response = httpx.post(f"{stack.url}/v1beta/models/{MODEL}:{method}", json=body, headers=KEY)
    assert names in google_error(response, 400)
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert stack.emulator.requests == []


def test_invalid_json_is_googles_400(stack: NativeStack) -> None:
    response = httpx.post(
        f"{stack.url}/v1/models/{MODEL}:batchEmbedContents",
        content=b'{"requests": [',
        headers={**KEY, "content-type": "application/json"},
    )
    assert "not valid JSON" in google_error(response, 400)
    assert stack.emulator.requests == []


def test_a_chat_model_is_a_400_naming_the_embedding_models(stack: NativeStack) -> None:
    client = stack.client()
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model="gemini-2.5-flash", contents=["hi"])
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert "gemini-2.5-flash" in str(caught.value.message)
    assert "gemini-embedding-001" in str(caught.value.message)
    assert stack.emulator.requests == []


def test_an_upstream_429_keeps_its_status_and_googles_shape(stack: NativeStack) -> None:
    client = stack.client()
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model=MODEL, contents=["fine", "x #fault=status:429"])
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    response = httpx.post(
        f"{stack.url}/v1beta/models/{MODEL}:embedContent",
        json={"content": {"parts": [{"text": "y #fault=status:429"}]}},
        headers=KEY,
    )
    assert "quota" in google_error(response, 429)
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_an_unknown_embedding_model_is_geminis_own_404(stack: NativeStack) -> None:
    response = httpx.post(
        f"{stack.url}/v1beta/models/no-such-embedding:embedContent",
        json={"content": {"parts": [{"text": "x"}]}},
        headers=KEY,
    )
    google_error(response, 404)
    assert len(stack.emulator.requests) == 1


def test_metrics_count_requests_inputs_and_tokens_by_model(stack: NativeStack) -> None:
    before = httpx.get(stack.url + "/metrics", headers=BEARER).text
    client = stack.client()
    client.models.embed_content(model=MODEL, contents=["abcd", "abcdefgh"])
    text = httpx.get(stack.url + "/metrics", headers=BEARER).text
    route = "/v1beta/models/{model_id}:batchEmbedContents"

    def value(metrics: str, name: str) -> float:
        lines = [line for line in metrics.splitlines() if line.startswith(name + " ")]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    inputs = f'gateway_embedding_inputs_total{{model="{MODEL}"}}'
    tokens = f'gateway_embedding_tokens_total{{model="{MODEL}"}}'
    requests = f'gateway_requests_total{{model="{MODEL}",route="{route}",status="200"}}'
    assert value(text, inputs) - value(before, inputs) == 2
    assert value(text, tokens) - value(before, tokens) == 1 + 2  # ceil(chars / 4) each
    assert value(text, requests) - value(before, requests) == 1


def test_without_a_server_key_the_clients_key_is_passed_through() -> None:
    with native_stack(api_keys=(), client_keys=()) as stack:
        client = stack.client(api_key="the-callers-own-key")
        client.models.embed_content(model=MODEL, contents="x")
        (call,) = stack.emulator.requests
    assert call.headers["x-goog-api-key"] == "the-callers-own-key"
