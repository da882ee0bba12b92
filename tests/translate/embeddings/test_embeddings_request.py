"""The embeddings request checks (every client mistake is a 400 naming the field) and the
batching; the reply checks (Gemini's garbage is a 502, never a short or shifted list)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest

from gateway.errors import InvalidRequestError, UpstreamError
from gateway.translate.embeddings.request import (
    MAX_BATCH,
    TOKEN_IDS_MESSAGE,
    batches,
    parse_embeddings_request,
    to_gemini_batch,
)
from gateway.translate.embeddings.response import (
    encode_base64,
    prompt_tokens,
    read_batch_reply,
    reported_tokens,
    to_openai_embeddings,
)

GOOD = {"model": "gemini-embedding-001", "input": "hello"}


def refused(body: Any, max_inputs: int = 2048) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        parse_embeddings_request(body, max_inputs)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(
    ("change", "param", "fragment"),
    [
        ({"input": ""}, "input[0]", "empty string"),
        ({"input": ["a", "", "c"]}, "input[1]", "empty string"),
        ({"input": []}, "input", "empty list"),
        ({"input": None}, "input", "string or a list of strings"),
        ({"input": ["a", 3]}, "input[1]", "must be a string"),
        ({"input": {"text": "a"}}, "input", "string or a list of strings"),
        ({"model": "gemini-2.5-flash"}, "model", "'gemini-2.5-flash' does not make embeddings"),
        ({"model": ""}, "model", "required"),
        ({"model": None}, "model", "required"),
        ({"model": "../x"}, "model", "not a valid Gemini model id"),
        ({"dimensions": 64}, "dimensions", "from 128 to 3072"),
        ({"dimensions": 3073}, "dimensions", "from 128 to 3072"),
        ({"dimensions": "256"}, "dimensions", "integer"),
        ({"dimensions": True}, "dimensions", "integer"),
        ({"encoding_format": "int8"}, "encoding_format", "'float' or 'base64'"),
        ({"google": {"task_type": "SEARCH"}}, "google.task_type", "RETRIEVAL_QUERY"),
        ({"google": {"taskType": 3}}, "google.task_type", "RETRIEVAL_DOCUMENT"),
        ({"google": {"title": "T"}}, "google.title", "RETRIEVAL_DOCUMENT"),
        ({"google": {"thinking_config": {}}}, "google", "unknown google option"),
        ({"google": "RETRIEVAL_QUERY"}, "google", "must be an object"),
        ({"extra_body": []}, "extra_body", "must be an object"),
    ],
)
def test_bad_requests_are_400s_naming_the_field(change: dict, param: str, fragment: str) -> None:
    error = refused({**GOOD, **change})
    assert error.param == param
    assert fragment in error.message


def test_a_chat_model_is_named_and_the_embedding_models_pointed_at() -> None:
    error = refused({**GOOD, "model": "gemini-3-pro-image-preview"})
    assert "gemini-3-pro-image-preview" in error.message
    assert "gemini-embedding-001 (3072 dimensions)" in error.message
    assert "text-embedding-004 (768 dimensions)" in error.message
    assert "GET /v1/models" in error.message


@pytest.mark.parametrize("ids", [[1, 2, 3], [[1, 2], [3]], [[15339, 1917]]])
def test_token_ids_are_refused_with_the_langchain_setting_named(ids: list[Any]) -> None:
    error = refused({**GOOD, "input": ids})
    assert error.message == TOKEN_IDS_MESSAGE
    assert "check_embedding_ctx_length=False" in error.message
    assert error.code == "token_ids_not_supported"


def test_more_inputs_than_the_setting_allows() -> None:
    assert len(parse_embeddings_request({**GOOD, "input": ["a"] * 3}, 3).inputs) == 3
    error = refused({**GOOD, "input": ["a"] * 4}, max_inputs=3)
    assert error.code == "too_many_inputs"
    assert "at most 3" in error.message and "GATEWAY_EMBEDDINGS_MAX_INPUTS" in error.message


def test_not_an_object() -> None:
    assert refused(["hello"]).param == "body"


@pytest.mark.parametrize(
    "google",
    [
        {"google": {"task_type": "RETRIEVAL_QUERY"}},
        {"google": {"taskType": "retrieval_query"}},
        {"extra_body": {"google": {"task_type": "Retrieval_Query"}}},
        {  # the literal extra_body wins, as on chat
            "google": {"task_type": "CLUSTERING"},
            "extra_body": {"google": {"task_type": "RETRIEVAL_QUERY"}},
        },
    ],
)
def test_task_type_spellings(google: dict) -> None:
    request = parse_embeddings_request({**GOOD, **google}, 10)
    assert request.task_type == "RETRIEVAL_QUERY"


def test_whitespace_is_text_and_user_is_ignored() -> None:
    request = parse_embeddings_request({**GOOD, "input": [" ", "x"], "user": 42}, 10)
    assert request.inputs == (" ", "x")


def test_batches_keep_input_order_and_never_exceed_gemini_limit() -> None:
    texts = [f"text {i}" for i in range(250)]
    request = parse_embeddings_request({**GOOD, "input": texts}, 2048)
    ranges = batches(request)
    assert ranges == [(0, 100), (100, 200), (200, 250)]
    sent = [
        r["content"]["parts"][0]["text"]
        for start, stop in ranges
        for r in to_gemini_batch(request, request.inputs[start:stop])["requests"]
    ]
    assert sent == texts
    assert all(stop - start <= MAX_BATCH for start, stop in ranges)


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        ({}, "no 'embeddings' list"),
        ({"embeddings": {"values": [1]}}, "no 'embeddings' list"),
        ({"embeddings": [{"values": [1.0]}]}, "1 embeddings for 2 inputs"),
        ({"embeddings": [{"values": [1.0]}, {"values": []}]}, "without values"),
        ({"embeddings": [{"values": [1.0]}, "x"]}, "without values"),
        ({"embeddings": [{"values": [1.0]}, {"values": [0.1, "2"]}]}, "not a number"),
        ({"embeddings": [{"values": [1.0]}, {"values": [None]}]}, "not a number"),
        ({"embeddings": [{"values": [1.0]}, {"values": [10**400]}]}, "not a number"),
    ],
)
@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_garbage_replies_are_upstream_errors(reply: dict, fragment: str, encoding: str) -> None:
    request = parse_embeddings_request(
        {**GOOD, "input": ["a", "b"], "encoding_format": encoding}, 9
    )
    with pytest.raises(UpstreamError) as caught:
        to_openai_embeddings(request, read_batch_reply(reply, 2), 1)
    assert caught.value.status == 502
    assert fragment in caught.value.message


def test_integer_values_come_out_as_floats() -> None:
    request = parse_embeddings_request({**GOOD, "encoding_format": "float"}, 9)
    answer = to_openai_embeddings(
        request, read_batch_reply({"embeddings": [{"values": [1, 2**70, True]}]}, 1), 1
    )
    assert answer["data"][0]["embedding"] == [1.0, float(2**70), 1.0]
    assert all(type(v) is float for v in answer["data"][0]["embedding"])


def test_base64_is_little_endian_float32() -> None:
    raw = base64.b64decode(encode_base64([1.0, -0.5, 0.1]))
    assert struct.unpack("<3f", raw) == (1.0, -0.5, struct.unpack("<f", struct.pack("<f", 0.1))[0])


def test_usage_falls_back_to_the_estimate_when_any_reply_lacks_a_count() -> None:
    request = parse_embeddings_request({**GOOD, "input": ["abcd", "abcde"]}, 10)
    replies = [
        {"usageMetadata": {"promptTokenCount": 4}},
        {"embeddings": [{"statistics": {"tokenCount": 2}}, {"statistics": {"tokenCount": 3.0}}]},
        {"embeddings": [{"statistics": {"tokenCount": 2}}, {"values": [1.0]}]},
        {},
    ]
    assert [reported_tokens(r) for r in replies] == [4, 5, None, None]
    assert prompt_tokens([4, 5], request) == (9, True)
    assert prompt_tokens([4, None], request) == (1 + 2, False)
