"""The native embedding methods' checks (translate/embeddings/native.py) that the end-to-end
tests leave out: what AI Studio is left to judge, and what only Vertex AI cannot take."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidRequestError
from gateway.translate.embeddings.native import check_native_embed, to_vertex

TEXT = {"parts": [{"text": "a fox"}]}
IMAGE = {"parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]}


def batch(*requests: dict[str, Any]) -> dict[str, Any]:
    return {"requests": list(requests)}


def test_fields_the_gateway_does_not_read_are_left_to_ai_studio_but_refused_for_vertex() -> None:
    request = check_native_embed(
        batch({"content": TEXT, "autoTruncate": True}), "gemini-embedding-001", "batchEmbedContents"
    )
    assert request.items[0].unknown == ("autoTruncate",)
    with pytest.raises(InvalidRequestError, match="autoTruncate"):
        to_vertex(request)


def test_a_non_text_part_goes_to_ai_studio_but_not_to_vertex() -> None:
    request = check_native_embed({"content": IMAGE}, "gemini-embedding-2", "embedContent")
    assert request.items[0].text is None and request.estimated_tokens() == 0
    with pytest.raises(InvalidRequestError, match="text parts only"):
        to_vertex(request)


def test_predict_takes_one_width_per_call() -> None:
    request = check_native_embed(
        batch(
            {"content": TEXT, "outputDimensionality": 128},
            {"content": TEXT, "outputDimensionality": 256},
        ),
        "text-embedding-004",
        "batchEmbedContents",
    )
    with pytest.raises(InvalidRequestError, match="one outputDimensionality per call"):
        to_vertex(request)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (batch({"content": TEXT, "taskType": "CLUSTERING", "task_type": "CLUSTERING"}), "twice"),
        ({**batch({"content": TEXT}), "model": "x"}, "only 'requests'"),
        (batch({"content": TEXT, "taskType": ["CLUSTERING"]}), "taskType"),
        (batch({"content": TEXT, "outputDimensionality": True}), "positive integer"),
        (batch({"content": TEXT, "title": 3}), "title"),
    ],
)
def test_shapes_refused_before_any_call(body: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        check_native_embed(body, "gemini-embedding-001", "batchEmbedContents")


def test_a_request_may_name_the_model_bare_or_prefixed() -> None:
    for named in ("gemini-embedding-001", "models/gemini-embedding-001"):
        body = {"content": TEXT, "model": named}
        assert check_native_embed(body, "gemini-embedding-001", "embedContent").inputs == 1
