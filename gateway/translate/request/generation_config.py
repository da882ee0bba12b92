"""Sampling, stop, response_format, reasoning_effort, modalities and image options →
generationConfig. Native passthrough (`generationConfig`, `google.*`) is applied last and wins.
"""

from __future__ import annotations

from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.families import family_of
from gateway.translate.parse import ChatRequest

Json = dict[str, Any]

OPENAI_TO_GEMINI_PARAM: Final[dict[str, str]] = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "n": "candidateCount",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}

# reasoning_effort → thinkingBudget for Gemini 2.5, then kept within the family's range
# (families.py; a larger budget is a 400).
EFFORT_TO_BUDGET: Final[dict[str, int]] = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
}
IMAGE_CONFIG_KEYS: Final = frozenset({"aspectRatio", "imageSize"})

# Keys whose values are user data (schemas): never rewritten to camelCase.
_OPAQUE_KEYS: Final = frozenset(
    {"responseSchema", "responseJsonSchema", "response_schema", "response_json_schema"}
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camelize(value: Any) -> Any:
    """Gemini takes both spellings, but not both at once: normalise passthrough to camelCase."""
    if isinstance(value, dict):
        return {camel(k): (v if k in _OPAQUE_KEYS else camelize(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def _thinking(chat: ChatRequest) -> Json | None:
    effort = chat.body.get("reasoning_effort")
    family = family_of(chat.model)
    config: Json = {}
    # Only model families known to think get a knob: Gemini 2.0, Gemma and aliases would
    # answer a 400 to either spelling, so reasoning_effort is dropped for them.
    if effort is not None and family.thinking == "budget":
        low, high = family.budget_range
        config["thinkingBudget"] = min(max(EFFORT_TO_BUDGET[effort], low), high)
    elif effort is not None and family.thinking == "level":
        config["thinkingLevel"] = family.levels[effort]
    if chat.body.get("include_reasoning") is True:
        config["includeThoughts"] = True
    native = chat.google.get("thinking_config") or chat.google.get("thinkingConfig")
    if isinstance(native, dict):
        native = camelize(native)
        if "thinkingBudget" in native or "thinkingLevel" in native:
            config.pop("thinkingBudget", None)
            config.pop("thinkingLevel", None)  # never both: Gemini rejects that (sample 13)
        config.update(native)
    return config or None


def _response_format(chat: ChatRequest) -> Json:
    fmt = chat.body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") == "text":
        return {}
    if fmt["type"] == "json_object":
        return {"responseMimeType": "application/json"}
    schema = (fmt.get("json_schema") or {}).get("schema")
    out: Json = {"responseMimeType": "application/json"}
    if isinstance(schema, dict):
        out["responseJsonSchema"] = schema
    return out


def _modalities(chat: ChatRequest) -> list[str] | None:
    modalities = chat.body.get("modalities")
    if isinstance(modalities, list):
        return [m.upper() for m in modalities if isinstance(m, str)]
    if family_of(chat.model).image:
        return ["TEXT", "IMAGE"]  # image models answer with an image without being asked
    return None


def _image_config_sources(chat: ChatRequest) -> Json:
    merged: Json = {}
    for source in (
        chat.body.get("image_config"),
        chat.body.get("imageConfig"),
        chat.google.get("image_config"),
        chat.google.get("imageConfig"),
    ):
        if source is None:
            continue
        if not isinstance(source, dict):
            raise InvalidRequestError("'image_config' must be an object", param="image_config")
        merged.update(camelize(source))
    return merged


def check_image_config(model: str, config: Json, param: str = "image_config") -> None:
    unknown = sorted(set(config) - IMAGE_CONFIG_KEYS)
    if unknown:  # Gemini answers 400 "Unknown name" for these: say it before calling it
        raise InvalidRequestError(
            f"unknown image_config option(s) {unknown}; the Gemini API takes aspect_ratio and "
            "image_size",
            param=f"{param}.{unknown[0]}",
        )
    ratio = config.get("aspectRatio")
    family = family_of(model)
    allowed = family.aspect_ratios
    if ratio is not None and (not isinstance(ratio, str) or ratio not in allowed):
        raise InvalidRequestError(
            f"aspect_ratio {ratio!r} is not supported by {model}; use one of "
            + ", ".join(sorted(allowed)),
            param=f"{param}.aspect_ratio",
        )
    size = config.get("imageSize")
    if size is None:
        return
    sizes = family.image_sizes
    if not sizes:
        raise InvalidRequestError(
            f"{model} renders at 1024px only and takes no image_size", param=f"{param}.image_size"
        )
    if not isinstance(size, str) or size not in sizes:
        hint = f' (did you mean "{str(size).upper()}"?)' if str(size).upper() in sizes else ""
        raise InvalidRequestError(
            f"image_size {size!r} is not supported{hint}; use one of {', '.join(sorted(sizes))}"
            " with an uppercase K",
            param=f"{param}.image_size",
        )


def to_gemini_generation_config(chat: ChatRequest) -> Json:
    body = chat.body
    config: Json = {
        gemini: body[openai]
        for openai, gemini in OPENAI_TO_GEMINI_PARAM.items()
        if body.get(openai) is not None
    }
    max_tokens = body.get("max_completion_tokens")
    max_tokens = body.get("max_tokens") if max_tokens is None else max_tokens
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    stop = body.get("stop")
    if stop is not None:
        config["stopSequences"] = [stop] if isinstance(stop, str) else stop
    if body.get("logprobs") is True:
        config["responseLogprobs"] = True
        if body.get("top_logprobs") is not None:
            config["logprobs"] = body["top_logprobs"]
    config.update(_response_format(chat))
    thinking = _thinking(chat)
    if thinking:
        config["thinkingConfig"] = thinking
    modalities = _modalities(chat)
    if modalities:
        config["responseModalities"] = modalities
    image_config = _image_config_sources(chat)
    if image_config:
        config["imageConfig"] = image_config
    native = body.get("generationConfig") or body.get("generation_config")
    native = native or (body.get("extra_body") or {}).get("generationConfig")
    if isinstance(native, dict):
        for key, value in camelize(native).items():
            if key == "imageConfig" and isinstance(value, dict):
                config["imageConfig"] = {**config.get("imageConfig", {}), **value}
            else:
                config[key] = value
    if "imageConfig" in config:
        check_image_config(chat.model, config["imageConfig"])
    return config
