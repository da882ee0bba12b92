"""Gemini's own embedding methods on the native routes, `:embedContent` and
`:batchEmbedContents` (pure).

- `check_native_embed`: the cheap look a body gets before it goes anywhere. AI Studio gets the
  very bytes the client sent, so only what would cost an upstream call to learn is checked
  here: the shape (`content.parts` a non-empty list, `requests` 1–MAX_BATCH of them), the
  option types, a per-request `model` equal to the URL's, and a model that embeds at all
  (a chat model is a 400 naming the embedding models, as on /v1/embeddings). Unknown fields
  are AI Studio's to judge.
- `to_vertex` / `from_vertex`: Vertex AI serves other calls for the same models; the request
  becomes the call /v1/embeddings makes there (wire.py: `:batchEmbedContents` with nested
  options, or `:predict`), item by item so each keeps its own task type and title, and Vertex's
  answer comes back in the Gemini API's shape google-genai reads: `{"embeddings": [{"values"}]}`
  (`{"embedding": {"values"}}` for `:embedContent`), plus `usageMetadata.promptTokenCount` when
  Vertex counted the tokens. Vertex is sent text only: a content's text parts, joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from gateway.errors import InvalidRequestError
from gateway.translate.embeddings.raw_reply import Texts
from gateway.translate.embeddings.request import (
    MAX_BATCH,
    TASK_TYPES,
    EmbeddingsRequest,
    is_embedding_model,
    models_hint,
)
from gateway.translate.embeddings.response import Vector, as_numbers, estimated_tokens
from gateway.translate.embeddings.wire import EmbedWire, read_reply, wire_for

Json = dict[str, Any]

EMBED_METHODS: Final = ("embedContent", "batchEmbedContents")
NATIVE_LISTING: Final = "GET /v1beta/models lists with 'embedContent' in supportedGenerationMethods"
NATIVE_TASK_TYPES: Final = frozenset({"TASK_TYPE_UNSPECIFIED", *TASK_TYPES})
# An EmbedContentRequest's fields (camelCase, or the snake_case proto JSON also takes).
REQUEST_FIELDS: Final = {
    "model": "model",
    "content": "content",
    "taskType": "taskType",
    "task_type": "taskType",
    "title": "title",
    "outputDimensionality": "outputDimensionality",
    "output_dimensionality": "outputDimensionality",
}


@dataclass(frozen=True, slots=True)
class EmbedItem:
    """One EmbedContentRequest, as far as the gateway reads it."""

    text: str | None  # the content's text parts joined; None when a part is not text
    task_type: str | None
    title: str | None
    dimensions: int | None
    unknown: tuple[str, ...] = ()  # fields not read here (AI Studio judges them; Vertex cannot)


@dataclass(frozen=True, slots=True)
class NativeEmbed:
    model: str
    method: str  # "embedContent" | "batchEmbedContents"
    items: tuple[EmbedItem, ...]

    @property
    def inputs(self) -> int:
        return len(self.items)

    def estimated_tokens(self) -> int:
        """The gateway's estimate (ceil(characters / 4) a text), for when Gemini counts none."""
        return estimated_tokens([item.text for item in self.items if item.text])


def _bad(message: str, where: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=where)


def check_model(model: str) -> None:
    if not is_embedding_model(model):
        raise InvalidRequestError(
            f"model {model!r} does not make embeddings; " + models_hint(NATIVE_LISTING),
            param="model",
            code="model_not_supported",
        )


def _fields(request: Json, where: str) -> tuple[Json, tuple[str, ...]]:
    """The known fields under their camelCase names, and the names of the others."""
    known: Json = {}
    unknown = []
    for key, value in request.items():
        name = REQUEST_FIELDS.get(key)
        if name is None:
            unknown.append(key)
        elif name in known:
            raise _bad(f"'{where}' spells {name} twice (camelCase and snake_case)", where)
        else:
            known[name] = value
    return known, tuple(unknown)


def _text(content: Any, where: str) -> str | None:
    if not isinstance(content, dict):
        raise _bad(f"'{where}.content' is required and must be a Content object", where)
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise _bad(f"'{where}.content.parts' must be a non-empty list of parts", where)
    texts = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise _bad(f"'{where}.content.parts[{i}]' must be a Part object", where)
        text = part.get("text")
        if text is not None and not isinstance(text, str):
            raise _bad(f"'{where}.content.parts[{i}].text' must be a string", where)
        texts.append(text)
    if any(text is None for text in texts):
        return None  # an image or other part: AI Studio's multimodal models may take it
    joined = "".join(text or "" for text in texts)
    if not joined:
        raise _bad(f"'{where}.content' has no text; Gemini cannot embed empty text", where)
    return joined


def _item(request: Any, model: str, where: str) -> EmbedItem:
    if not isinstance(request, dict):
        raise _bad(f"'{where}' must be an EmbedContentRequest object", where)
    fields, unknown = _fields(request, where)
    named = fields.get("model")
    if named is not None and named not in (model, f"models/{model}"):
        raise _bad(
            f"'{where}.model' is {str(named)[:80]!r}, not the model in the URL, models/{model}",
            where,
        )
    task = fields.get("taskType")
    if task is not None and (not isinstance(task, str) or task not in NATIVE_TASK_TYPES):
        raise _bad(
            f"'{where}.taskType' must be one of {', '.join(sorted(NATIVE_TASK_TYPES))}; "
            f"got {str(task)[:80]!r}",
            where,
        )
    title = fields.get("title")
    if title is not None and not isinstance(title, str):
        raise _bad(f"'{where}.title' must be a string", where)
    width = fields.get("outputDimensionality")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
        raise _bad(f"'{where}.outputDimensionality' must be a positive integer", where)
    return EmbedItem(_text(fields.get("content"), where), task, title, width, unknown)


def check_native_embed(data: Any, model: str, method: str) -> NativeEmbed:
    """The request, or a 400 saying what is wrong, before any upstream call."""
    check_model(model)
    if not isinstance(data, dict):
        raise _bad("the request body must be a JSON object", "body")
    if method == "embedContent":
        return NativeEmbed(model, method, (_item(data, model, "request"),))
    unknown = sorted(set(data) - {"requests"})
    if unknown:
        raise _bad(f"unknown field(s) {unknown[:5]}: a batch holds only 'requests'", "body")
    requests = data.get("requests")
    if not isinstance(requests, list) or not requests:
        raise _bad("'requests' must be a non-empty list of EmbedContentRequests", "requests")
    if len(requests) > MAX_BATCH:
        raise _bad(
            f"'requests' holds {len(requests)} requests; Gemini embeds at most {MAX_BATCH} "
            "in one batchEmbedContents call",
            "requests",
        )
    items = tuple(_item(r, model, f"requests[{i}]") for i, r in enumerate(requests))
    return NativeEmbed(model, method, items)


# -- Vertex AI ---------------------------------------------------------------------------------


def _as_request(native: NativeEmbed, item: EmbedItem, where: str) -> tuple[EmbeddingsRequest, str]:
    if item.unknown:
        raise _bad(
            f"'{where}' has field(s) {list(item.unknown)[:5]} the gateway cannot send to "
            "Vertex AI (it takes content, taskType, title, outputDimensionality)",
            where,
        )
    if item.text is None:
        raise _bad(f"'{where}.content': on Vertex AI the gateway embeds text parts only", where)
    task = None if item.task_type == "TASK_TYPE_UNSPECIFIED" else item.task_type
    request = EmbeddingsRequest(
        model=native.model,
        inputs=(item.text,),
        dimensions=item.dimensions,
        encoding="float",
        task_type=task,
        title=item.title,
    )
    return request, item.text


def to_vertex(native: NativeEmbed) -> tuple[EmbedWire, Json]:
    """The Vertex call for the request: its wire (method, reader) and its one body."""
    wire = wire_for(native.model, vertex=True)
    single = native.method == "embedContent"
    bodies = []
    for i, item in enumerate(native.items):
        request, text = _as_request(native, item, "request" if single else f"requests[{i}]")
        bodies.append(wire.body(request, [text]))
    if wire.method == "batchEmbedContents":
        return wire, {"requests": [r for body in bodies for r in body["requests"]]}
    parameters = [body.get("parameters") for body in bodies]
    if any(p != parameters[0] for p in parameters):
        raise _bad(
            f"Vertex AI embeds {native.model} with one outputDimensionality per call: send "
            "requests of different widths in separate calls",
            "requests",
        )
    merged: Json = {"instances": [inst for body in bodies for inst in body["instances"]]}
    if parameters[0] is not None:
        merged["parameters"] = parameters[0]
    return wire, merged


def from_vertex(native: NativeEmbed, wire: EmbedWire, raw: bytes) -> tuple[Json, int | None]:
    """(the Gemini API answer, Vertex's token count or None) from Vertex's reply bytes; a
    reply with the wrong number of vectors, or values that are not numbers, is Gemini's
    garbage (a 502). Each vector is Vertex's own JSON text when it could be checked as it is
    (raw_reply.py), else its values written again."""
    vectors, tokens, texts = read_reply(wire, raw, native.inputs, keep_texts=True)
    embeddings = [{"values": _as_sent(values, texts)} for values in vectors]
    answer: Json = (
        {"embedding": embeddings[0]}
        if native.method == "embedContent"
        else {"embeddings": embeddings}
    )
    if tokens is not None:
        answer["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
    return answer, tokens


def _as_sent(values: Vector, texts: Texts) -> Vector | orjson.Fragment:
    text = texts.get(id(values))
    return as_numbers(values) if text is None else orjson.Fragment(text)
