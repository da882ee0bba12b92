"""Gemini Model resources → OpenAI model objects (bare ids, no `models/` prefix).

The list keeps the models the gateway can serve: those that generate content (chat, images)
and those that embed (`/v1/embeddings`); `supported_generation_methods` says which is which."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

EXTRA_FIELDS = {
    "displayName": "display_name",
    "description": "description",
    "inputTokenLimit": "input_token_limit",
    "outputTokenLimit": "output_token_limit",
    "supportedGenerationMethods": "supported_generation_methods",
    "thinking": "thinking",
}


def to_openai_model(model: Json) -> Json:
    name = str(model.get("name", "")).removeprefix("models/")
    out: Json = {"id": name, "object": "model", "created": 0, "owned_by": "google"}
    for gemini, openai in EXTRA_FIELDS.items():
        if gemini in model:
            out[openai] = model[gemini]
    return out


SERVED_METHODS = frozenset({"generateContent", "embedContent"})


def to_openai_model_list(models: list[Json]) -> Json:
    data = [
        to_openai_model(m)
        for m in models
        if SERVED_METHODS.intersection(m.get("supportedGenerationMethods") or ["generateContent"])
    ]
    return {"object": "list", "data": data}
