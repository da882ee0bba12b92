"""Which Gemini call embeds, per backend and model, and how its body and answer look (pure).

- AI Studio: `:batchEmbedContents`, `{"requests": [{"model", "content", "taskType", "title",
  "outputDimensionality"}]}` → `{"embeddings": [{"values"}], "usageMetadata"?}` (request.py,
  response.py).
- Vertex AI, Gemini embedding models (an id with "gemini", google-genai's own rule):
  `:batchEmbedContents` with the options nested, `{"requests": [{"content": {"role": "user",
  "parts"}, "embedContentConfig": {"taskType", "title", "outputDimensionality"}}]}`, no per-request
  model; the same answer.
- Vertex AI, the older models (`text-embedding-004/005`, `text-multilingual-embedding-002`):
  `:predict`, `{"instances": [{"content": text, "task_type", "title"}], "parameters":
  {"outputDimensionality"}}` → `{"predictions": [{"embeddings": {"values", "statistics":
  {"token_count"}}}]}`.
The Vertex shapes are google-genai 3.6.1's (`models.embed_content` in Vertex mode), captured
against a loopback fake. Every form takes at most MAX_BATCH inputs per call here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from gateway.errors import UpstreamError
from gateway.translate.embeddings.raw_reply import Texts, lift
from gateway.translate.embeddings.request import EmbeddingsRequest, to_gemini_batch
from gateway.translate.embeddings.response import (
    Vector,
    garbage,
    read_batch_reply,
    reported_tokens,
    token_count,
)

Json = dict[str, Any]

MIN_LIFT: Final = 4096
"""JSON bytes per vector below which base64 parses a reply whole: cutting arrays out costs
~3.5 µs each, paid back only by long ones (measured, 100 vectors: 128 values 0.36 ms whole
against 0.73 cut; 768 values 2.7 against 2.6; 3,072 values 16 against 11)."""


@dataclass(frozen=True, slots=True)
class EmbedWire:
    method: str  # the model method called: "batchEmbedContents" or "predict"
    body: Callable[[EmbeddingsRequest, Sequence[str]], Json]
    read: Callable[[Json, int], tuple[list[Vector], int | None]]  # (vectors, Gemini's count)


def _options(request: EmbeddingsRequest, names: tuple[str, str, str]) -> Json:
    task, title, width = names
    options: Json = {}
    if request.task_type is not None:
        options[task] = request.task_type
    if request.title is not None:
        options[title] = request.title
    if width and request.dimensions is not None:
        options[width] = request.dimensions
    return options


def to_vertex_batch(request: EmbeddingsRequest, texts: Sequence[str]) -> Json:
    config = _options(request, ("taskType", "title", "outputDimensionality"))
    return {
        "requests": [
            {
                "content": {"role": "user", "parts": [{"text": text}]},
                **({"embedContentConfig": config} if config else {}),
            }
            for text in texts
        ]
    }


def to_vertex_predict(request: EmbeddingsRequest, texts: Sequence[str]) -> Json:
    options = _options(request, ("task_type", "title", ""))
    body: Json = {"instances": [{"content": text, **options} for text in texts]}
    if request.dimensions is not None:
        body["parameters"] = {"outputDimensionality": request.dimensions}
    return body


def read_batch(reply: Json, expected: int) -> tuple[list[Vector], int | None]:
    return read_batch_reply(reply, expected), reported_tokens(reply)


def read_predict(reply: Json, expected: int) -> tuple[list[Vector], int | None]:
    """`predictions[i].embeddings` are the `embeddings[i]` of the other forms."""
    predictions = reply.get("predictions")
    if not isinstance(predictions, list):
        raise garbage("no 'predictions' list")
    embeddings = [p.get("embeddings") if isinstance(p, dict) else None for p in predictions]
    vectors = read_batch_reply({"embeddings": embeddings}, expected)
    counts = [token_count(e) for e in embeddings]
    tokens = sum(c or 0 for c in counts) if all(c is not None for c in counts) else None
    return vectors, tokens


AI_STUDIO = EmbedWire("batchEmbedContents", to_gemini_batch, read_batch)
VERTEX_BATCH = EmbedWire("batchEmbedContents", to_vertex_batch, read_batch)
VERTEX_PREDICT = EmbedWire("predict", to_vertex_predict, read_predict)


def read_reply(
    wire: EmbedWire, raw: bytes, expected: int, keep_texts: bool
) -> tuple[list[Vector], int | None, Texts]:
    """(vectors, Gemini's count, each vector's JSON text when `keep_texts`) of one reply's
    bytes: read with the arrays cut out (raw_reply.py) when that applies, else parsed whole;
    the same checks either way.

    Texts are keyed by the id of a list, so only the returned vectors' are kept: a `"values"`
    array that is not a vector dies with the reply, and its id, left behind, would name the
    next list allocated at that address (another batch's vector, written with its numbers)."""
    lifted = (
        lift(raw, expected, keep_texts) if keep_texts or len(raw) >= expected * MIN_LIFT else None
    )
    if lifted is not None:
        reply, texts = lifted
    else:
        texts = {}
        try:
            reply = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered with a body that is not valid JSON") from exc
    if not isinstance(reply, dict):
        raise UpstreamError("Gemini answered with an unexpected JSON shape")
    vectors, tokens = wire.read(reply, expected)
    if texts:
        texts = {id(v): texts[id(v)] for v in vectors if id(v) in texts}
    return vectors, tokens, texts


def wire_for(model: str, vertex: bool) -> EmbedWire:
    if not vertex:
        return AI_STUDIO
    return VERTEX_BATCH if "gemini" in model else VERTEX_PREDICT
