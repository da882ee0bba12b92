"""Gemini Model resources → OpenAI model objects (bare ids, no `models/` prefix)."""

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


def to_openai_model_list(models: list[Json]) -> Json:
    data = [
        to_openai_model(m)
        for m in models
        if "generateContent" in (m.get("supportedGenerationMethods") or ["generateContent"])
    ]
    return {"object": "list", "data": data}
