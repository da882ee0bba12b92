"""Gemini `batchEmbedContents` replies → the OpenAI embeddings list.

A reply must hold exactly one embedding per request sent, each a non-empty list of numbers;
anything else is Gemini's garbage (a 502), never a 500 nor a short or shifted answer. Parsing
Gemini's JSON numbers is most of the CPU an embeddings call costs (README "Embeddings"): they
are parsed once, array by array (raw_reply.py), and never written out as JSON again.

`encoding_format: base64` is what the OpenAI Python SDK asks for by default (and decodes): each
vector as little-endian float32 bytes, base64 (a cached `struct.Struct`, explicitly
little-endian on any host). `float` is JSON numbers: the very text Gemini sent when it was
checked to be one (`texts`), else the parsed values written again (a double's shortest form,
so nothing is rounded on the way either).

Usage: Gemini's own count when every reply carries one (`usageMetadata.promptTokenCount`, or
Vertex's per-embedding `statistics.tokenCount`); otherwise (AI Studio's batchEmbedContents gives
none) the gateway's estimate, ceil(characters / 4) per input, the rule the history budget uses.
"""

from __future__ import annotations

import base64
import functools
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from gateway.errors import UpstreamError
from gateway.translate.embeddings.request import EmbeddingsRequest
from gateway.translate.token_estimate import part_tokens

Json = dict[str, Any]
Vector = list[float]


def garbage(detail: str) -> UpstreamError:
    return UpstreamError(f"Gemini answered batchEmbedContents with {detail}")


def read_batch_reply(reply: Json, expected: int) -> list[Vector]:
    """The vectors of one reply, in request order: one per request, each a non-empty list.
    Their values are checked while they are encoded (`to_openai_embeddings`): one pass."""
    embeddings = reply.get("embeddings")
    if not isinstance(embeddings, list):
        raise garbage("no 'embeddings' list")
    if len(embeddings) != expected:
        raise garbage(f"{len(embeddings)} embeddings for {expected} inputs")
    vectors: list[Vector] = []
    for item in embeddings:
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, list) or not values:
            raise garbage("an embedding without values")
        vectors.append(values)
    return vectors


def _int(value: Any) -> int | None:
    """A count: a non-negative integer (Vertex writes some as floats, `3.0`)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def token_count(embedding: Any) -> int | None:
    """Vertex's per-vector count: `statistics.tokenCount` (`token_count` from :predict)."""
    stats = embedding.get("statistics") if isinstance(embedding, dict) else None
    if not isinstance(stats, dict):
        return None
    return _int(stats.get("tokenCount", stats.get("token_count")))


def reported_tokens(reply: Json) -> int | None:
    """Gemini's own input-token count for one batchEmbedContents reply, when it gives one."""
    usage = reply.get("usageMetadata")
    if isinstance(usage, dict) and (count := _int(usage.get("promptTokenCount"))) is not None:
        return count
    counts = [token_count(item) for item in reply.get("embeddings") or ()]
    if counts and all(c is not None for c in counts):
        return sum(c or 0 for c in counts)
    return None


def estimated_tokens(texts: Sequence[str]) -> int:
    return sum(part_tokens({"text": text}, None) for text in texts)


def prompt_tokens(counts: Sequence[int | None], request: EmbeddingsRequest) -> tuple[int, bool]:
    """(input tokens, whether Gemini counted them) from each call's count; one call without a
    count → the estimate for the whole request."""
    if counts and all(c is not None for c in counts):
        return sum(c or 0 for c in counts), True
    return estimated_tokens(request.inputs), False


@functools.lru_cache(maxsize=64)
def _layout(code: str, width: int) -> struct.Struct:
    return struct.Struct(f"<{width}{code}")


def _packed(code: str, values: Vector) -> bytes:
    """Little-endian `code` ("f": float32, "d": float64) values; refuses non-numbers. A cached
    Struct packed 100 × 3,072 values in 2.7 ms, `array("f", values)` in 6.4 (measured)."""
    try:
        return _layout(code, len(values)).pack(*values)
    except (struct.error, TypeError, OverflowError) as exc:
        raise garbage("an embedding value that is not a number") from exc


def encode_base64(values: Vector) -> str:
    return base64.b64encode(_packed("f", values)).decode("ascii")


def as_numbers(values: Vector) -> Vector:
    """The values, checked, as floats. Only for vectors whose text could not be copied
    (raw_reply.py): integers and booleans are rewritten as floats (a `true` among floats
    would otherwise be written as `true`), a string, null, list or object is a 502."""
    if set(map(type, values)) == {float}:
        return values
    return list(_layout("d", len(values)).unpack(_packed("d", values)))


def to_openai_embeddings(
    request: EmbeddingsRequest,
    vectors: Sequence[Vector],
    tokens: int,
    texts: Mapping[int, bytes] | None = None,
) -> Json:
    """The OpenAI `CreateEmbeddingResponse` for the vectors in input order. `texts`: the JSON
    text Gemini wrote for a vector (by its list's id, raw_reply.py), already checked to be an
    array of numbers: `float` copies it as it is instead of encoding the values again."""
    found = texts or {}

    def as_sent(values: Vector) -> Vector | orjson.Fragment:
        text = found.get(id(values))
        return as_numbers(values) if text is None else orjson.Fragment(text)

    encode: Callable[[Vector], Vector | str | orjson.Fragment] = (
        encode_base64 if request.encoding == "base64" else as_sent
    )
    data = [
        {"object": "embedding", "index": index, "embedding": encode(values)}
        for index, values in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
