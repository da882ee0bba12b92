"""`generationConfig`: checked like Gemini checks it (thinking and image knobs are where gateways
most often send something the model refuses), then boiled down to what the answer depends on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.emulator.errors import invalid_argument
from gateway.emulator.fields import field, obj, objects, spellings
from gateway.emulator.models import ModelInfo
from gateway.emulator.validate import check_known

GENERATION_CONFIG_KEYS: Final = spellings(
    [
        "temperature",
        "topP",
        "topK",
        "candidateCount",
        "maxOutputTokens",
        "stopSequences",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "responseModalities",
        "imageConfig",
        "thinkingConfig",
        "mediaResolution",
        "speechConfig",
        "enableEnhancedCivicAnswers",
    ]
)
THINKING_KEYS: Final = spellings(["includeThoughts", "thinkingBudget", "thinkingLevel"])
IMAGE_CONFIG_KEYS: Final = spellings(["aspectRatio", "imageSize"])
THINKING_LEVELS: Final = frozenset(
    {"MINIMAL", "LOW", "MEDIUM", "HIGH", "THINKING_LEVEL_UNSPECIFIED"}
)
MODALITIES: Final = frozenset({"TEXT", "IMAGE", "AUDIO", "MODALITY_UNSPECIFIED"})
_ENUM_PREFIX: Final = "type.googleapis.com/google.ai.generativelanguage.v1beta."


@dataclass(frozen=True)
class GenerationOptions:
    """The knobs the emulator's answer depends on."""

    include_thoughts: bool = False
    thinking_budget: int | None = None
    response_mime_type: str = "text/plain"
    response_schema: dict[str, Any] | None = None
    response_modalities: tuple[str, ...] | None = None
    aspect_ratio: str = "1:1"
    image_size: str = "1K"
    candidate_count: int = 1
    max_output_tokens: int | None = None

    def wants(self, modality: str) -> bool:
        """Image models answer TEXT+IMAGE unless the request narrows it (gemini-api.md §1)."""
        return self.response_modalities is None or modality in self.response_modalities


def parse_generation_config(value: object, model: ModelInfo) -> GenerationOptions:
    if value is None:
        return GenerationOptions()
    if not isinstance(value, dict):
        raise invalid_argument("Invalid value at 'generation_config': expected a JSON object.")
    check_known(value, GENERATION_CONFIG_KEYS, "generation_config")
    include_thoughts, budget = _thinking(value, model)
    aspect_ratio, image_size = _image_config(value, model)
    schema = field(value, "responseJsonSchema") or field(value, "responseSchema")
    return GenerationOptions(
        include_thoughts=include_thoughts,
        thinking_budget=budget,
        response_mime_type=str(field(value, "responseMimeType") or "text/plain"),
        response_schema=schema if isinstance(schema, dict) else None,
        response_modalities=_modalities(value, model),
        aspect_ratio=aspect_ratio,
        image_size=image_size,
        candidate_count=_candidate_count(value, model),
        max_output_tokens=_positive_int(value, "maxOutputTokens"),
    )


def _thinking(config: dict[str, Any], model: ModelInfo) -> tuple[bool, int | None]:
    thinking = field(config, "thinkingConfig")
    if thinking is None:
        return False, None
    where = "generation_config.thinking_config"
    if not isinstance(thinking, dict):
        raise invalid_argument(f"Invalid value at '{where}': expected a JSON object.", where)
    check_known(thinking, THINKING_KEYS, where)
    budget = field(thinking, "thinkingBudget")
    level = field(thinking, "thinkingLevel")
    if budget is not None and level is not None:
        raise invalid_argument("You can only set only one of thinking budget and thinking level.")
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool)):
        raise invalid_argument(f"Invalid value at '{where}.thinking_budget' (TYPE_INT32)", where)
    if budget == 0 and model.id.startswith("gemini-2.5-pro"):
        raise invalid_argument("Budget 0 is invalid. This model only works in thinking mode.")
    if level is not None:
        if not isinstance(level, str) or level.upper() not in THINKING_LEVELS:
            raise invalid_argument(
                f"Invalid value at '{where}.thinking_level' ({_ENUM_PREFIX}ThinkingConfig."
                f'ThinkingLevel), "{level}"',
                f"{where}.thinking_level",
            )
        if level.upper() == "MINIMAL" and model.is_pro:
            raise invalid_argument(
                "Thinking level MINIMAL is not supported for this model. "
                "Please retry with other thinking level."
            )
    return field(thinking, "includeThoughts") is True, budget


def _image_config(config: dict[str, Any], model: ModelInfo) -> tuple[str, str]:
    image = field(config, "imageConfig")
    if image is None:
        return "1:1", "1K"
    where = "generation_config.image_config"
    if not isinstance(image, dict):
        raise invalid_argument(f"Invalid value at '{where}': expected a JSON object.", where)
    check_known(image, IMAGE_CONFIG_KEYS, where)
    ratio = field(image, "aspectRatio")
    size = field(image, "imageSize")
    if ratio is not None and ratio not in model.aspect_ratios:
        raise invalid_argument(
            f'Invalid aspect_ratio "{ratio}" for {model.id}. Supported values are: '
            + ", ".join(sorted(model.aspect_ratios, key=_ratio_order))
            + ".",
            f"{where}.aspect_ratio",
        )
    if size is not None and size not in model.image_sizes:
        raise invalid_argument(
            f'Invalid image_size "{size}" for {model.id}. Supported values are: '
            + ", ".join(sorted(model.image_sizes, key=len))
            + " (uppercase K).",
            f"{where}.image_size",
        )
    return str(ratio or "1:1"), str(size or "1K")


def _ratio_order(ratio: str) -> tuple[int, int]:
    width, _, height = ratio.partition(":")
    return int(width), int(height)


def _modalities(config: dict[str, Any], model: ModelInfo) -> tuple[str, ...] | None:
    value = field(config, "responseModalities")
    if value is None:
        return None
    where = "generation_config.response_modalities"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_argument(f"Invalid value at '{where}': expected a list of strings.", where)
    modalities = tuple(v.upper() for v in value)
    for given, upper in zip(value, modalities, strict=True):
        if upper not in MODALITIES:
            raise invalid_argument(
                f"Invalid value at '{where}[0]' ({_ENUM_PREFIX}GenerationConfig.Modality), "
                f'"{given}"',
                where,
            )
    if "IMAGE" in modalities and not model.is_image:
        raise invalid_argument("Model does not support the requested response modalities: image")
    return modalities or None


def _candidate_count(config: dict[str, Any], model: ModelInfo) -> int:
    count = _positive_int(config, "candidateCount") or 1
    if count > 1 and model.is_image:
        raise invalid_argument(f"Multiple candidates is not enabled for models/{model.id}")
    if count > 8:
        raise invalid_argument("candidateCount must be between 1 and 8.")
    return count


def _positive_int(config: dict[str, Any], name: str) -> int | None:
    value = field(config, name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid_argument(
            f"Invalid value at 'generation_config.{name}': expected a positive integer."
        )
    return value


@dataclass(frozen=True)
class ToolOptions:
    """The tools a request enables, flattened across its `tools[]` entries."""

    declarations: tuple[dict[str, Any], ...] = ()
    mode: str = "AUTO"
    allowed: tuple[str, ...] = ()
    code_execution: bool = False
    google_search: bool = False
    url_context: bool = False

    @property
    def may_call(self) -> bool:
        return bool(self.declarations) and self.mode != "NONE"


def parse_tools(body: dict[str, Any]) -> ToolOptions:
    declarations: list[dict[str, Any]] = []
    kinds: set[str] = set()
    for tool in objects(body, "tools"):
        declarations.extend(objects(tool, "functionDeclarations"))
        kinds.update(
            k for k in ("codeExecution", "googleSearch", "urlContext") if field(tool, k) is not None
        )
    calling = obj(obj(body, "toolConfig"), "functionCallingConfig")
    mode = calling.get("mode")
    allowed = field(calling, "allowedFunctionNames")
    return ToolOptions(
        declarations=tuple(declarations),
        mode=mode.upper() if isinstance(mode, str) else "AUTO",
        allowed=tuple(n for n in allowed if isinstance(n, str))
        if isinstance(allowed, list)
        else (),
        code_execution="codeExecution" in kinds,
        google_search="googleSearch" in kinds,
        url_context="urlContext" in kinds,
    )
