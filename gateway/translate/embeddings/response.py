"""Gemini `batchEmbedContents` replies → the OpenAI embeddings list.

A reply must hold exactly one embedding per request sent, each a non-empty list of numbers;
anything else is Gemini's garbage (a 502), never a 500 nor a short or shifted answer.

`encoding_format: base64` is what the OpenAI Python SDK asks for by default (and decodes): each
vector as little-endian float32 bytes, base64. `float` is JSON numbers, written as Gemini sent
them (a double's shortest form, so nothing is rounded on the way).

Usage: Gemini's own count when every reply carries one (`usageMetadata.promptTokenCount`, or
Vertex's per-embedding `statistics.tokenCount`); otherwise (AI Studio's batchEmbedContents gives
none) the gateway's estimate, ceil(characters / 4) per input, the rule the history budget uses.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from gateway.errors import UpstreamError
from gateway.translate.budget import part_tokens
from gateway.translate.embeddings.request import EmbeddingsRequest

Json = dict[str, Any]
Vector = list[float]


def _garbage(detail: str) -> UpstreamError:
    return UpstreamError(f"Gemini answered batchEmbedContents with {detail}")


def read_batch_reply(reply: Json, expected: int) -> list[Vector]:
    """The vectors of one reply, in request order, checked: one per request, numbers only."""
    embeddings = reply.get("embeddings")
    if not isinstance(embeddings, list):
        raise _garbage("no 'embeddings' list")
    if len(embeddings) != expected:
        raise _garbage(f"{len(embeddings)} embeddings for {expected} inputs")
    vectors: list[Vector] = []
    for item in embeddings:
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, list) or not values:
            raise _garbage("an embedding without values")
        try:
            array("d", values)  # a C loop: refuses anything that is not a number
        except (TypeError, OverflowError) as exc:
            raise _garbage("an embedding value that is not a number") from exc
        vectors.append(values)
    return vectors


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def reported_tokens(reply: Json) -> int | None:
    """Gemini's own input-token count for one reply, when it gives one."""
    usage = reply.get("usageMetadata")
    if isinstance(usage, dict) and (count := _int(usage.get("promptTokenCount"))) is not None:
        return count
    counts = [
        _int((item.get("statistics") or {}).get("tokenCount")) if isinstance(item, dict) else None
        for item in reply.get("embeddings") or ()
    ]
    if counts and all(c is not None for c in counts):
        return sum(c or 0 for c in counts)
    return None


def estimated_tokens(texts: Sequence[str]) -> int:
    return sum(part_tokens({"text": text}, None) for text in texts)


def prompt_tokens(replies: Sequence[Json], request: EmbeddingsRequest) -> tuple[int, bool]:
    """(input tokens, whether Gemini counted them); one reply without a count → the estimate."""
    counts = [reported_tokens(reply) for reply in replies]
    if counts and all(c is not None for c in counts):
        return sum(c or 0 for c in counts), True
    return estimated_tokens(request.inputs), False


def encode_base64(values: Vector) -> str:
    packed = array("f", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def to_openai_embeddings(
    request: EmbeddingsRequest, vectors: Sequence[Vector], tokens: int
) -> Json:
    """The OpenAI `CreateEmbeddingResponse` for the vectors in input order."""
    encode = encode_base64 if request.encoding == "base64" else None
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": encode(values) if encode is not None else values,
        }
        for index, values in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
