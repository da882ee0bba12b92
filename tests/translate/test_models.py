"""Gemini Model resources → OpenAI model objects: bare ids, only models that chat or embed."""

from __future__ import annotations

from pathlib import Path

import orjson
from openai.types import Model

from gateway.translate.models import to_openai_model, to_openai_model_list


def test_sample_16_becomes_an_openai_model(samples_dir: Path) -> None:
    gemini = orjson.loads(next(samples_dir.glob("16_*")).read_bytes())
    model = to_openai_model(gemini)
    Model.model_validate(model, strict=True)
    assert model == {
        "id": "gemini-3.1-pro-preview",
        "object": "model",
        "created": 0,
        "owned_by": "google",
        "display_name": "Gemini 3.1 Pro Preview",
        "description": "Gemini 3.1 Pro Preview",
        "input_token_limit": 1048576,
        "output_token_limit": 65536,
        "supported_generation_methods": gemini["supportedGenerationMethods"],
        "thinking": True,
    }


def test_the_list_keeps_only_models_that_generate_content_or_embed() -> None:
    models = [
        {"name": "models/gemini-2.5-flash", "supportedGenerationMethods": ["generateContent"]},
        {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
        {"name": "models/aqa", "supportedGenerationMethods": ["generateAnswer"]},
        {"name": "models/gemini-3-pro-image-preview"},
    ]
    listed = to_openai_model_list(models)
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == [
        "gemini-2.5-flash",
        "text-embedding-004",
        "gemini-3-pro-image-preview",
    ]
    assert listed["data"][1]["supported_generation_methods"] == ["embedContent"]
