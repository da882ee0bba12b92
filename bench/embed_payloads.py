"""Embeddings bench payloads: the requests (OpenAI's and the equivalent Gemini batch) and the
fake upstream's canned `batchEmbedContents` answers, shaped like Google's: pretty-printed, one
value a line (unless the call asks `prettyPrint=false`), float32 values printed with up to 9
significant digits."""

from __future__ import annotations

import random
from typing import Any

import orjson

MODEL = "gemini-embedding-001"


def texts(count: int) -> list[str]:
    """Sentences of a realistic chunk length (~200 characters)."""
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "while",
        "rivers",
        "run",
        "to",
        "the",
        "sea",
    ]
    rng = random.Random(7)
    return [" ".join(rng.choice(words) for _ in range(40)) + f" #{i}" for i in range(count)]


def openai_body(count: int, dims: int, encoding: str) -> bytes:
    return orjson.dumps(
        {"model": MODEL, "input": texts(count), "dimensions": dims, "encoding_format": encoding}
    )


def gemini_body(count: int, dims: int) -> bytes:
    return orjson.dumps(
        {
            "requests": [
                {
                    "model": f"models/{MODEL}",
                    "content": {"parts": [{"text": text}]},
                    "outputDimensionality": dims,
                }
                for text in texts(count)
            ]
        }
    )


def embeddings_reply(count: int, dims: int) -> bytes:
    rng = random.Random(count * 7919 + dims)
    lines = ["{", '  "embeddings": [']
    for i in range(count):
        values = ",\n".join(f"        {rng.gauss(0, 0.03):.9g}" for _ in range(dims))
        tail = "," if i < count - 1 else ""
        lines += ["    {", '      "values": [', values, "      ]", "    }" + tail]
    lines += ["  ]", "}"]
    return "\n".join(lines).encode()


class CannedEmbeddings:
    """One answer per (inputs, width, compact), built on first use. `compact` is Google's
    `prettyPrint=false`: the same JSON without the indentation."""

    def __init__(self) -> None:
        self._replies: dict[tuple[int, int, bool], bytes] = {}

    def reply(self, body: bytes, compact: bool = False) -> bytes:
        request: Any = orjson.loads(body)
        requests = request["requests"]
        dims = int(requests[0].get("outputDimensionality") or 3072)
        key = (len(requests), dims, compact)
        if key not in self._replies:
            pretty = embeddings_reply(len(requests), dims)
            self._replies[key] = orjson.dumps(orjson.loads(pretty)) if compact else pretty
        return self._replies[key]
