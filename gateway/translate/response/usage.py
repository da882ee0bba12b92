"""Gemini usageMetadata → OpenAI usage. completion_tokens include thinking (design.md)."""

from __future__ import annotations

from typing import Any


def to_openai_usage(meta: dict[str, Any] | None) -> dict[str, Any]:
    meta = meta or {}
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    candidates = int(meta.get("candidatesTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    cached = int(meta.get("cachedContentTokenCount") or 0)
    completion = candidates + thoughts
    image_tokens = sum(
        int(d.get("tokenCount") or 0)
        for d in meta.get("candidatesTokensDetails") or []
        if d.get("modality") == "IMAGE"
    )
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(meta.get("totalTokenCount") or prompt + completion),
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }
    if image_tokens:
        usage["completion_tokens_details"]["image_tokens"] = image_tokens
    return usage
