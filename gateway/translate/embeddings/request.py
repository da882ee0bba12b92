"""An OpenAI embeddings request → checked parameters → Gemini `batchEmbedContents` bodies.

Mapping (README "Embeddings"): each input string is one `EmbedContentRequest`
(`{"model", "content": {"parts": [{"text"}]}, "taskType", "title", "outputDimensionality"}`);
Gemini takes at most MAX_BATCH of them per call, so a longer input list is cut into batches
(serving/embeddings.py runs them). `dimensions` → `outputDimensionality`; `encoding_format`
only changes how the answer is written; `user` is ignored. Gemini's `taskType` and `title`
come in the spellings the chat route takes native options in: `google.task_type` (or
`taskType`), top level or under a literal `extra_body`.

Everything a client can get wrong is a 400 here, before any upstream call: an empty string,
token-id arrays (LangChain's default, see TOKEN_IDS_MESSAGE), a model that does not embed, more
inputs than the deployment allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.parse import google_options

Json = dict[str, Any]

MAX_BATCH: Final = 100  # Gemini's limit on requests in one batchEmbedContents call
MIN_DIMENSIONS: Final = 128
MAX_DIMENSIONS: Final = 3072
DEFAULT_EMBEDDING_MODEL: Final = "gemini-embedding-001"
# Gemini's embedding models and their default width (what `dimensions` left out gives).
EMBEDDING_MODELS: Final[dict[str, int]] = {
    "gemini-embedding-001": 3072,
    "text-embedding-004": 768,
}
# OpenAI's own embedding ids: a base_url swap should be all existing code needs, so they mean
# the default Gemini model at the width the OpenAI model has by default (vector stores are
# created with that width).
OPENAI_EMBEDDING_ALIASES: Final[dict[str, int]] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
TASK_TYPES: Final = (
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
)
ENCODINGS: Final = ("float", "base64")
GOOGLE_OPTIONS: Final = {"task_type": "taskType", "taskType": "taskType", "title": "title"}
TOKEN_IDS_MESSAGE: Final = (
    "'input' holds token ids; Gemini embeds text only and the gateway cannot turn OpenAI token "
    "ids back into text. Send strings. LangChain's OpenAIEmbeddings sends token ids unless it "
    "is created with check_embedding_ctx_length=False"
)
_MODEL_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True, slots=True)
class EmbeddingsRequest:
    model: str  # the Gemini model called
    inputs: tuple[str, ...]
    dimensions: int | None  # → outputDimensionality; None: the model's default width
    encoding: str  # "float" | "base64"
    task_type: str | None
    title: str | None
    notes: tuple[str, ...] = ()


OPENAI_LISTING: Final = "GET /v1/models lists with 'embedContent' in supported_generation_methods"


def models_hint(listing: str = OPENAI_LISTING) -> str:
    """Where to look instead; `listing`: how this surface's model list says a model embeds."""
    listed = ", ".join(f"{m} ({w} dimensions)" for m, w in EMBEDDING_MODELS.items())
    return f"use an embedding model: {listed}, or another id {listing}"


def is_embedding_model(model: str) -> bool:
    """Gemini's embedding models all carry "embedding" in their id; its chat models never do."""
    return "embedding" in model.lower()


def resolve_embedding_model(value: Any) -> tuple[str, int | None, str | None]:
    """(Gemini model, default width for an OpenAI alias, note). A model that does not embed is
    a 400 that names it and the embedding models."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(
            "'model' is required and must be a non-empty string; " + models_hint(), param="model"
        )
    model = value.strip().removeprefix("models/")
    alias = OPENAI_EMBEDDING_ALIASES.get(model.lower())
    if alias is not None:
        return DEFAULT_EMBEDDING_MODEL, alias, f"embeddings_model_alias:{model}"
    if _MODEL_ID.match(model) is None:
        raise InvalidRequestError(
            f"model {model[:64]!r} is not a valid Gemini model id", param="model"
        )
    if not is_embedding_model(model):
        raise InvalidRequestError(
            f"model {model!r} does not make embeddings; " + models_hint(),
            param="model",
            code="model_not_supported",
        )
    return model, None, None


def _is_token_ids(value: Any) -> bool:
    if isinstance(value, list) and value:
        head = value[0]
        return (isinstance(head, int) and not isinstance(head, bool)) or (
            isinstance(head, list)
            and bool(head)
            and isinstance(head[0], int)
            and not isinstance(head[0], bool)
        )
    return False


def parse_inputs(value: Any, max_inputs: int) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if _is_token_ids(value):
        raise InvalidRequestError(TOKEN_IDS_MESSAGE, param="input", code="token_ids_not_supported")
    if not isinstance(value, list):
        raise InvalidRequestError("'input' must be a string or a list of strings", param="input")
    if not value:
        raise InvalidRequestError("'input' must not be an empty list", param="input")
    if len(value) > max_inputs:
        raise InvalidRequestError(
            f"'input' holds {len(value)} strings; this gateway embeds at most {max_inputs} in "
            "one request (GATEWAY_EMBEDDINGS_MAX_INPUTS): send them in several requests",
            param="input",
            code="too_many_inputs",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidRequestError(
                f"'input[{i}]' must be a string, got {type(item).__name__}", param=f"input[{i}]"
            )
        if not item:
            raise InvalidRequestError(
                f"'input[{i}]' is an empty string; Gemini cannot embed empty text",
                param=f"input[{i}]",
            )
    return tuple(value)


def parse_dimensions(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError("'dimensions' must be an integer", param="dimensions")
    if not MIN_DIMENSIONS <= value <= MAX_DIMENSIONS:
        raise InvalidRequestError(
            f"'dimensions' must be from {MIN_DIMENSIONS} to {MAX_DIMENSIONS} (what Gemini "
            f"accepts as outputDimensionality), got {value}",
            param="dimensions",
        )
    return value


def parse_encoding(value: Any) -> str:
    if value is None:
        return "float"
    if not isinstance(value, str) or value not in ENCODINGS:
        raise InvalidRequestError(
            f"'encoding_format' must be 'float' or 'base64', got {value!r}",
            param="encoding_format",
        )
    return value


def parse_google(raw: Json) -> tuple[str | None, str | None]:
    """(taskType, title) from `google` / `extra_body.google`, snake_case or camelCase."""
    options = google_options(raw)
    unknown = sorted(set(options) - set(GOOGLE_OPTIONS))
    if unknown:
        raise InvalidRequestError(
            f"unknown google option(s) {unknown} for embeddings; known: task_type, title",
            param="google",
        )
    task = options.get("task_type", options.get("taskType"))
    if task is not None:
        if not isinstance(task, str) or task.upper() not in TASK_TYPES:
            raise InvalidRequestError(
                f"'google.task_type' must be one of {', '.join(TASK_TYPES)}; got {task!r}",
                param="google.task_type",
            )
        task = task.upper()
    title = options.get("title")
    if title is not None:
        if not isinstance(title, str) or not title:
            raise InvalidRequestError(
                "'google.title' must be a non-empty string", param="google.title"
            )
        if task != "RETRIEVAL_DOCUMENT":
            raise InvalidRequestError(
                "'google.title' is only taken with google.task_type RETRIEVAL_DOCUMENT",
                param="google.title",
            )
    return task, title


def parse_embeddings_request(raw: Any, max_inputs: int) -> EmbeddingsRequest:
    if not isinstance(raw, dict):
        raise InvalidRequestError("the request body must be a JSON object", param="body")
    model, alias_width, note = resolve_embedding_model(raw.get("model"))
    inputs = parse_inputs(raw.get("input"), max_inputs)
    dimensions = parse_dimensions(raw.get("dimensions"))
    task, title = parse_google(raw)
    return EmbeddingsRequest(
        model=model,
        inputs=inputs,
        dimensions=dimensions if dimensions is not None else alias_width,
        encoding=parse_encoding(raw.get("encoding_format")),
        task_type=task,
        title=title,
        notes=(note,) if note else (),
    )


def batches(request: EmbeddingsRequest, size: int = MAX_BATCH) -> list[tuple[int, int]]:
    """[start, stop) index ranges of the inputs, at most `size` each, in input order."""
    count = len(request.inputs)
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def to_gemini_batch(request: EmbeddingsRequest, texts: Sequence[str]) -> Json:
    """One `batchEmbedContents` body; every request names the model, as Gemini requires."""
    common: Json = {}
    if request.task_type is not None:
        common["taskType"] = request.task_type
    if request.title is not None:
        common["title"] = request.title
    if request.dimensions is not None:
        common["outputDimensionality"] = request.dimensions
    name = f"models/{request.model}"
    return {
        "requests": [
            {"model": name, "content": {"parts": [{"text": text}]}, **common} for text in texts
        ]
    }
