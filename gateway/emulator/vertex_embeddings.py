"""Vertex AI's embedding calls, as google-genai 3.6.1 makes them (translate/embeddings/wire.py):
`:batchEmbedContents` for Gemini embedding models, options under `embedContentConfig`; `:predict`
(`instances`, `parameters`) for the others, answered with `predictions[].embeddings` and a
per-vector `statistics.token_count`. Each request is turned into AI Studio's shape and checked
and answered by embeddings.py, so the vectors are the same on both backends.

The emulator's predict count is the number of words (at least 1): a rule unlike the gateway's
own estimate, so a test can tell Gemini's count from the estimate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.responses import Response

from gateway.emulator.embeddings import (
    check_request,
    embedding,
    requested_fault,
)
from gateway.emulator.errors import GeminiError, invalid_argument
from gateway.emulator.faults import fault_error_response, json_response
from gateway.emulator.fields import field, spellings
from gateway.emulator.models import ModelInfo
from gateway.emulator.state import EmulatorState
from gateway.emulator.validate import check_known, parse_json_error

VERTEX_EMBED_METHODS: Final = frozenset({"batchEmbedContents", "predict"})
MAX_INSTANCES: Final = 250
BATCH_REQUEST_KEYS: Final = spellings(["content", "embedContentConfig"])
CONFIG_KEYS: Final = spellings(["taskType", "title", "outputDimensionality", "autoTruncate"])
INSTANCE_KEYS: Final = frozenset({"content", "task_type", "title", "taskType"})
PARAMETER_KEYS: Final = spellings(["outputDimensionality", "autoTruncate"])


def _batch_items(body: Mapping[str, Any], model: ModelInfo) -> list[tuple[str, str, int]]:
    if "gemini" not in model.id:
        raise GeminiError(400, f"batchEmbedContents is not supported for {model.id}; use predict.")
    requests = field(body, "requests")
    if not isinstance(requests, list) or not requests or len(requests) > 100:
        raise invalid_argument("requests must hold 1 to 100 requests.", "requests")
    items = []
    for i, request in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(request, dict):
            raise invalid_argument(f"Invalid value at '{where}'.", where)
        check_known(request, BATCH_REQUEST_KEYS, where)
        config = field(request, "embedContentConfig") or {}
        if not isinstance(config, dict):
            raise invalid_argument(f"Invalid value at '{where}.embed_content_config'.", where)
        check_known(config, CONFIG_KEYS, f"{where}.embed_content_config")
        flat = {"content": field(request, "content")}
        flat |= {k: v for k, v in config.items() if k not in ("autoTruncate", "auto_truncate")}
        items.append(check_request(flat, model, where))
    return items


def _predict_items(body: Mapping[str, Any], model: ModelInfo) -> list[tuple[str, str, int]]:
    check_known(body, frozenset({"instances", "parameters"}), None)
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances or len(instances) > MAX_INSTANCES:
        raise invalid_argument(f"instances must hold 1 to {MAX_INSTANCES} items.", "instances")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid_argument("Invalid value at 'parameters'.", "parameters")
    check_known(parameters, PARAMETER_KEYS, "parameters")
    width = field(parameters, "outputDimensionality")
    items = []
    for i, instance in enumerate(instances):
        where = f"instances[{i}]"
        if not isinstance(instance, dict) or not isinstance(instance.get("content"), str):
            raise invalid_argument(f"{where}.content must be a string.", where)
        check_known(instance, INSTANCE_KEYS, where)
        flat: dict[str, Any] = {"content": {"parts": [{"text": instance["content"]}]}}
        task = instance.get("task_type", instance.get("taskType"))
        for name, value in (("taskType", task), ("title", instance.get("title"))):
            if value is not None:
                flat[name] = value
        if width is not None:
            flat["outputDimensionality"] = width
        items.append(check_request(flat, model, where))
    return items


def _prediction(text: str, task: str, width: int) -> dict[str, Any]:
    vector = embedding(text, task, width)
    vector["statistics"] = {"token_count": max(1, len(text.split())), "truncated": False}
    return {"embeddings": vector}


def answer_vertex_embeddings(
    state: EmulatorState, model: ModelInfo, method: str, parsed: object
) -> Response:
    fault = state.faults.pop()
    if fault is not None and fault.is_error:
        return fault_error_response(fault, model.id)
    if not isinstance(parsed, dict):
        raise parse_json_error()
    predict = method == "predict"
    items = _predict_items(parsed, model) if predict else _batch_items(parsed, model)
    fault = requested_fault([text for text, _, _ in items])
    if fault is not None and fault.is_error:
        return fault_error_response(fault, model.id)
    if predict:
        characters = sum(len(text) for text, _, _ in items)
        return json_response(
            {
                "predictions": [_prediction(*item) for item in items],
                "metadata": {"billableCharacterCount": characters},
            }
        )
    return json_response({"embeddings": [embedding(*item) for item in items]})
