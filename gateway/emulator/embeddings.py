"""`embedContent` and `batchEmbedContents`: deterministic vectors, checked like Gemini checks.

A vector depends only on (taskType, text): SHAKE-256 of them, read as signed 16-bit integers,
each divided by 32768. Every value is exact in float32, so a base64 (float32) round trip
compares equal, and a test can compute the vector an input must get (`embedding_values`) to
check order. A narrower `outputDimensionality` gives a prefix of the full vector, as Gemini's
Matryoshka-trained models do. An input text holding `#fault=<spec>` makes its call fail with
that fault (faults.py), so one batch of many can be made to fail.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from collections.abc import Mapping
from typing import Any, Final

from starlette.responses import Response

from gateway.emulator.errors import invalid_argument, model_not_found
from gateway.emulator.faults import Fault, fault_error_response, json_response, parse_fault
from gateway.emulator.fields import field, obj, part_text, spellings
from gateway.emulator.models import ModelInfo
from gateway.emulator.state import EmulatorState
from gateway.emulator.validate import check_content, check_known, parse_json_error

EMBED_METHODS: Final = frozenset({"embedContent", "batchEmbedContents"})
MAX_BATCH: Final = 100
TASK_TYPES: Final = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)
REQUEST_KEYS: Final = spellings(["model", "content", "taskType", "title", "outputDimensionality"])
BATCH_KEYS: Final = spellings(["requests"])
_FAULT: Final = re.compile(r"#fault=(\S+)")


def embedding_values(text: str, task_type: str, width: int) -> list[float]:
    raw = hashlib.shake_256(f"{task_type}\0{text}".encode()).digest(2 * width)
    ints = array("h")
    ints.frombytes(raw)
    if sys.byteorder != "little":
        ints.byteswap()
    return [v / 32768 for v in ints]


def check_request(request: object, model: ModelInfo, where: str) -> tuple[str, str, int]:
    """(text, taskType, width) of one EmbedContentRequest, or the error Gemini would give."""
    if not isinstance(request, dict):
        raise invalid_argument(f"Invalid value at '{where}' (EmbedContentRequest).", where)
    check_known(request, REQUEST_KEYS, where)
    name = field(request, "model")
    if name is not None and name != f"models/{model.id}":
        raise invalid_argument(
            f"* BatchEmbedContentsRequest.{where}.model: the model {name!r} differs from the "
            f"model in the URL, models/{model.id}.",
            f"{where}.model",
        )
    content = field(request, "content")
    check_content(content, f"{where}.content", any_role=True)
    texts = [part_text(p) for p in obj(request, "content").get("parts") or []]
    if any(t is None for t in texts):
        raise invalid_argument(f"{where}.content: only text parts can be embedded.", where)
    text = "".join(t or "" for t in texts)
    if not text:
        raise invalid_argument(f"{where}.content: the text is empty.", f"{where}.content")
    task = field(request, "taskType") or "TASK_TYPE_UNSPECIFIED"
    if task not in TASK_TYPES:
        raise invalid_argument(
            f"Invalid value at '{where}.task_type' (type.googleapis.com/google.ai."
            f'generativelanguage.v1beta.TaskType), "{task}"',
            f"{where}.task_type",
        )
    if field(request, "title") is not None and task != "RETRIEVAL_DOCUMENT":
        raise invalid_argument("Title is only supported for RETRIEVAL_DOCUMENT tasks.", where)
    width = field(request, "outputDimensionality")
    if width is None:
        width = model.embedding_width
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise invalid_argument(
            f"Invalid value at '{where}.output_dimensionality' (TYPE_INT32).", where
        )
    if width > model.embedding_width:
        raise invalid_argument(
            f"outputDimensionality {width} is larger than {model.id}'s "
            f"{model.embedding_width} dimensions.",
            f"{where}.output_dimensionality",
        )
    return text, task, width


def embedding(text: str, task: str, width: int) -> dict[str, Any]:
    return {"values": embedding_values(text, task, width)}


def requested_fault(texts: list[str]) -> Fault | None:
    for text in texts:
        match = _FAULT.search(text)
        if match:
            try:
                return parse_fault(match.group(1))
            except ValueError as error:
                raise invalid_argument(f"Emulator directive #fault: {error}") from error
    return None


def batch_requests(body: Mapping[str, Any], model: ModelInfo) -> list[tuple[str, str, int]]:
    check_known(body, BATCH_KEYS, None)
    requests = field(body, "requests")
    if not isinstance(requests, list) or not requests:
        raise invalid_argument(
            "* BatchEmbedContentsRequest.requests: requests must not be empty.", "requests"
        )
    if len(requests) > MAX_BATCH:
        raise invalid_argument(
            f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in "
            "one batch.",
            "requests",
        )
    return [check_request(r, model, f"requests[{i}]") for i, r in enumerate(requests)]


def batch_embed_response(items: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {"embeddings": [embedding(*item) for item in items]}


def single_request(body: Mapping[str, Any], model: ModelInfo) -> tuple[str, str, int]:
    return check_request(dict(body), model, "request")


def embed_content_response(item: tuple[str, str, int]) -> dict[str, Any]:
    return {"embedding": embedding(*item)}


def check_embedding_model(
    model: ModelInfo, method: str, version: str, embed_methods: frozenset[str] = EMBED_METHODS
) -> None:
    """Embedding methods only on embedding models, generation only on the others."""
    if (method in embed_methods) != bool(model.embedding_width):
        raise model_not_found(model.id, version, method)


def answer_embeddings(
    state: EmulatorState, model: ModelInfo, method: str, parsed: object
) -> Response:
    """A queued fault first (as for generation), then the checks, a `#fault=` in a text, the
    vectors."""
    fault = state.faults.pop()
    if fault is not None and fault.is_error:
        return fault_error_response(fault, model.id)
    if not isinstance(parsed, dict):
        raise parse_json_error()
    batch = method == "batchEmbedContents"
    items = batch_requests(parsed, model) if batch else [single_request(parsed, model)]
    fault = requested_fault([text for text, _, _ in items])
    if fault is not None and fault.is_error:
        return fault_error_response(fault, model.id)
    return json_response(batch_embed_response(items) if batch else embed_content_response(items[0]))
