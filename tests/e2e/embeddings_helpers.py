"""Shared by the embeddings end-to-end tests: what the emulator must have answered for a text,
and the check of every batch body the gateway sent upstream."""

from __future__ import annotations

from typing import Any

from validators import validate_gemini_embed_batch

from gateway.emulator.embeddings import embedding_values

WIDTHS = {"gemini-embedding-001": 3072, "text-embedding-004": 768}


def expected_vector(
    text: str, model: str = "gemini-embedding-001", task: str = "", width: int | None = None
) -> list[float]:
    return embedding_values(text, task or "TASK_TYPE_UNSPECIFIED", width or WIDTHS[model])


def embed_calls(stack: Any) -> list[Any]:
    """The batchEmbedContents calls the emulator saw, each body validated."""
    calls = [r for r in stack.emulator.requests if r.method == "batchEmbedContents"]
    for call in calls:
        validate_gemini_embed_batch(call.body, call.model)
    return calls
