"""Wire-shape validators for test outputs: Google's and OpenAI's own types, plus the checks
those types are too lax for (gemini-api.md §10). Every validator raises AssertionError (or
pydantic.ValidationError) naming the culprit, and returns the parsed object.

Other test packages import these names: keep them stable.
"""

from __future__ import annotations

import base64
import copy
import struct
import warnings
from collections.abc import Iterator
from typing import Any, Final

import pydantic
from google.genai import types
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

Json = dict[str, Any]

_CONTENTS: Final = pydantic.TypeAdapter(list[types.Content])
# REST top-level key (camelCase) → GenerateContentConfig field (snake_case).
_TOP: Final[dict[str, str]] = {
    "systemInstruction": "system_instruction",
    "tools": "tools",
    "toolConfig": "tool_config",
    "safetySettings": "safety_settings",
    "cachedContent": "cached_content",
}
REQUEST_KEYS: Final = frozenset({"contents", "generationConfig", *_TOP})
ROLES: Final = frozenset({"user", "model"})
RESPONSE_MODALITIES: Final = frozenset({"TEXT", "IMAGE", "AUDIO"})
IMAGE_SIZES: Final = frozenset({"1K", "2K", "4K", "512"})
ASPECT_RATIOS: Final = frozenset(
    {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
    | {"1:4", "4:1", "1:8", "8:1"}
)
PART_DATA_FIELDS: Final = frozenset(
    {
        "text",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
        "toolCall",
        "toolResponse",
    }
)
# Subtrees holding user data (schemas, arguments): their keys are not Gemini field names.
_OPAQUE: Final = frozenset(
    {"args", "response", "parametersJsonSchema", "responseJsonSchema", "responseSchema"}
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _dicts(value: Any, path: str = "$") -> Iterator[tuple[str, Json]]:
    if isinstance(value, dict):
        yield path, value
        for key, child in value.items():
            if key not in _OPAQUE:
                yield from _dicts(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _dicts(child, f"{path}[{i}]")


def _strict_pydantic(check: Any) -> Any:
    """google-genai warns (and accepts) on unknown enum values: we refuse them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check()
    assert not caught, f"google-genai warned: {[str(w.message) for w in caught]}"
    return result


def validate_gemini_request(body: Json) -> tuple[list[types.Content], types.GenerateContentConfig]:
    """A GenerateContentRequest body as the gateway sends it upstream."""
    unknown = set(body) - REQUEST_KEYS
    assert not unknown, f"unknown top-level keys {sorted(unknown)} (Gemini rejects them)"
    contents_raw = body.get("contents")
    assert isinstance(contents_raw, list) and contents_raw, "contents must be a non-empty list"
    for path, node in _dicts(body):
        spelled = [_camel(k) for k in node]
        twice = {k for k in spelled if spelled.count(k) > 1}
        assert not twice, f"{path}: both spellings of {sorted(twice)} (Gemini rejects that)"
    for i, content in enumerate(contents_raw):
        assert content.get("role") in ROLES, f"contents[{i}].role {content.get('role')!r}"
        assert content.get("parts"), f"contents[{i}] has no parts"
        for j, part in enumerate(content["parts"]):
            data = {_camel(k) for k in part} & PART_DATA_FIELDS
            assert len(data) == 1, f"contents[{i}].parts[{j}] has data fields {sorted(data)}"
    config = dict(body.get("generationConfig") or {})
    modalities = config.get("responseModalities") or []
    assert set(modalities) <= RESPONSE_MODALITIES, f"responseModalities {modalities}"
    image = config.get("imageConfig") or {}
    assert image.get("imageSize", "1K") in IMAGE_SIZES, f"imageSize {image.get('imageSize')!r}"
    ratio = image.get("aspectRatio", "1:1")
    assert ratio in ASPECT_RATIOS, f"aspectRatio {ratio!r}"
    thinking = config.get("thinkingConfig") or {}
    assert not {"thinkingBudget", "thinkingLevel"} <= set(thinking), (
        "both thinkingBudget and thinkingLevel (Gemini rejects that, sample 13)"
    )
    for camel, snake in _TOP.items():
        if body.get(camel) is not None:
            config[snake] = body[camel]
    instruction = body.get("systemInstruction")
    if instruction is not None:
        assert instruction.get("role", "user") == "user", "systemInstruction role"
        assert all(set(p) == {"text"} for p in instruction.get("parts") or []), (
            "systemInstruction takes text parts only"
        )
    return _strict_pydantic(
        lambda: (
            _CONTENTS.validate_python(copy.deepcopy(contents_raw)),
            types.GenerateContentConfig.model_validate(config),
        )
    )


def validate_gemini_response(d: Json) -> types.GenerateContentResponse:
    """The SDK's lenient path: live fields newer than the SDK are dropped, not refused."""
    return _strict_pydantic(
        lambda: types.GenerateContentResponse._from_response(response=copy.deepcopy(d), kwargs={})
    )


def _check_signature_holder(item: Json, where: str) -> None:
    extra = item.get("extra_content")
    if extra is None:
        return
    assert isinstance(extra, dict) and isinstance(extra.get("google"), dict), f"{where}"
    sig = extra["google"].get("thought_signature")
    assert sig is None or (isinstance(sig, str) and sig), f"{where}: thought_signature {sig!r}"


def _check_extensions(message: Json, where: str, *, delta: bool) -> None:
    """Fields the OpenAI types let through untyped: images, reasoning_content, extra_content."""
    reasoning = message.get("reasoning_content")
    assert reasoning is None or isinstance(reasoning, str), f"{where}.reasoning_content"
    _check_signature_holder(message, where)
    parts = ((message.get("extra_content") or {}).get("google") or {}).get("parts")
    assert parts is None or isinstance(parts, list), f"{where}.extra_content.google.parts"
    for k, call in enumerate(message.get("tool_calls") or []):
        _check_signature_holder(call, f"{where}.tool_calls[{k}]")
    images = message.get("images")
    if images is None:
        return
    assert isinstance(images, list), f"{where}.images must be a list"
    for k, item in enumerate(images):
        at = f"{where}.images[{k}]"
        assert item.get("type") == "image_url", f"{at}.type"
        url = (item.get("image_url") or {}).get("url")
        assert isinstance(url, str) and url, f"{at}.image_url.url"
        assert item.get("index") == k or (delta and isinstance(item.get("index"), int)), at
        assert set(item) <= {"type", "image_url", "index", "thought", "extra_content"}, at
        _check_signature_holder(item, at)


def validate_openai_completion(d: Json) -> ChatCompletion:
    completion = ChatCompletion.model_validate(d, strict=True)
    assert completion.choices or "usage" in d, "a completion needs choices"
    for choice in d["choices"]:
        _check_extensions(choice["message"], f"choices[{choice['index']}].message", delta=False)
    return completion


def validate_openai_chunk(d: Json) -> ChatCompletionChunk:
    chunk = ChatCompletionChunk.model_validate(d, strict=True)
    for choice in d["choices"]:
        _check_extensions(choice["delta"], f"choices[{choice['index']}].delta", delta=True)
    return chunk


# -- embeddings ------------------------------------------------------------------------------
EMBED_REQUEST_KEYS: Final = frozenset(
    {"model", "content", "taskType", "title", "outputDimensionality"}
)
MAX_EMBED_BATCH: Final = 100


def validate_gemini_embed_batch(body: Json, model: str) -> list[types.EmbedContentConfig]:
    """A batchEmbedContents body: 1–100 EmbedContentRequests for the model in the URL, each a
    text Content plus the EmbedContentConfig fields Gemini's REST API takes at its top level."""
    assert set(body) == {"requests"}, f"top-level keys {sorted(body)}"
    requests = body["requests"]
    assert isinstance(requests, list) and 1 <= len(requests) <= MAX_EMBED_BATCH, len(requests)
    configs = []
    for i, request in enumerate(requests):
        unknown = set(request) - EMBED_REQUEST_KEYS
        assert not unknown, f"requests[{i}]: unknown keys {sorted(unknown)}"
        assert request.get("model") == f"models/{model}", f"requests[{i}].model"
        content = request["content"]
        parts = content.get("parts") or []
        assert parts and all(set(p) == {"text"} and p["text"] for p in parts), f"requests[{i}]"
        _strict_pydantic(lambda content=content: types.Content.model_validate(content))
        config = {
            "task_type": request.get("taskType"),
            "title": request.get("title"),
            "output_dimensionality": request.get("outputDimensionality"),
        }
        configs.append(
            _strict_pydantic(
                lambda config=config: types.EmbedContentConfig.model_validate(
                    {k: v for k, v in config.items() if v is not None}
                )
            )
        )
    return configs


def validate_gemini_embed_response(d: Json) -> types.EmbedContentResponse:
    response = _strict_pydantic(
        lambda: types.EmbedContentResponse._from_response(response=copy.deepcopy(d), kwargs={})
    )
    assert response.embeddings, "no embeddings"
    return response


def validate_openai_embeddings(d: Json) -> CreateEmbeddingResponse:
    """The SDK's type describes decoded vectors: base64 ones are decoded (little-endian float32,
    as the SDK does) before the strict check."""
    decoded = copy.deepcopy(d)
    for item in decoded["data"]:
        if isinstance(item["embedding"], str):
            raw = base64.b64decode(item["embedding"], validate=True)
            assert len(raw) % 4 == 0, "base64 embedding is not float32"
            item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    response = CreateEmbeddingResponse.model_validate(decoded, strict=True)
    assert [e.index for e in response.data] == list(range(len(response.data))), "indexes"
    assert response.usage.total_tokens == response.usage.prompt_tokens, "usage"
    return response


def _embed_config(**fields: Any) -> types.EmbedContentConfig:
    given = {k: v for k, v in fields.items() if v is not None}
    return _strict_pydantic(lambda: types.EmbedContentConfig.model_validate(given))


def validate_vertex_embed_body(body: Json, method: str) -> list[types.EmbedContentConfig]:
    """A Vertex embedding body as google-genai 3.6.1 sends it: `batchEmbedContents` with the
    options in `embedContentConfig`, or `predict` with `instances` and `parameters`."""
    configs = []
    if method == "batchEmbedContents":
        assert set(body) == {"requests"}, f"top-level keys {sorted(body)}"
        assert 1 <= len(body["requests"]) <= MAX_EMBED_BATCH
        for i, request in enumerate(body["requests"]):
            assert set(request) <= {"content", "embedContentConfig"}, f"requests[{i}]"
            content = request["content"]
            assert content.get("role") == "user", f"requests[{i}].content.role"
            _strict_pydantic(lambda content=content: types.Content.model_validate(content))
            config = request.get("embedContentConfig") or {}
            assert set(config) <= {"taskType", "title", "outputDimensionality"}, config
            configs.append(
                _embed_config(
                    task_type=config.get("taskType"),
                    title=config.get("title"),
                    output_dimensionality=config.get("outputDimensionality"),
                )
            )
        return configs
    assert method == "predict", method
    assert set(body) <= {"instances", "parameters"} and body["instances"], sorted(body)
    parameters = body.get("parameters") or {}
    assert set(parameters) <= {"outputDimensionality"}, parameters
    for i, instance in enumerate(body["instances"]):
        assert set(instance) <= {"content", "task_type", "title"}, f"instances[{i}]"
        assert isinstance(instance["content"], str) and instance["content"], f"instances[{i}]"
        configs.append(
            _embed_config(
                task_type=instance.get("task_type"),
                title=instance.get("title"),
                output_dimensionality=parameters.get("outputDimensionality"),
            )
        )
    return configs
