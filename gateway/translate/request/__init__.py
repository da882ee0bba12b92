"""OpenAI chat request → Gemini GenerateContentRequest. Each Gemini field has one producer:
contents.py (contents, systemInstruction), generation_config.py (generationConfig),
tools.py (tools, toolConfig); safetySettings and cachedContent are passthrough below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequestError
from gateway.translate.families import family_of
from gateway.translate.parse import ChatRequest
from gateway.translate.request.contents import count_images, to_gemini_contents
from gateway.translate.request.generation_config import camelize, to_gemini_generation_config
from gateway.translate.request.model_turn import keys_for_assistant
from gateway.translate.request.parts import image_url_of, url_kind
from gateway.translate.request.resolved import Needs, Resolved
from gateway.translate.request.tools import to_gemini_tools
from gateway.translate.turn_view import ViewOptions

Json = dict[str, Any]

__all__ = ["GeminiCall", "Needs", "Resolved", "inputs_needed", "to_gemini_request"]


@dataclass(frozen=True, slots=True)
class GeminiCall:
    body: Json
    notes: tuple[str, ...]


def _image_urls(chat: ChatRequest) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for i, message in enumerate(chat.messages):
        content = message.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "non_standard":
                    part = part.get("value") or {}
                if isinstance(part, dict) and part.get("type") == "image_url":
                    found.append((image_url_of(part), f"messages[{i}].content[{j}].image_url.url"))
        for k, item in enumerate(message.get("images") or []):
            if isinstance(item, dict):
                found.append((image_url_of(item), f"messages[{i}].images[{k}].image_url.url"))
    return found


def _markdown_hosted_urls(chat: ChatRequest, hosted_base: str | None) -> list[tuple[str, str]]:
    if not hosted_base:
        return []
    marker = f"]({hosted_base}/v1/files/"
    found: list[tuple[str, str]] = []
    for i, message in enumerate(chat.messages):
        if message.get("role") != "assistant":
            continue
        for text in _assistant_texts(message.get("content")):
            start = text.find(marker)
            while start >= 0:
                end = text.find(")", start + 2)
                found.append((text[start + 2 : end], f"messages[{i}].content"))
                start = text.find(marker, end)
    return found


def _assistant_texts(content: object) -> list[str]:
    """String content, or the text blocks of list content (LangChain output_version="v1")."""
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "non_standard":
            block = block.get("value")
        if isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text")
            if isinstance(text, str):
                texts.append(text)
    return texts


def inputs_needed(chat: ChatRequest, options: ViewOptions) -> Needs:
    fetch: list[tuple[str, str]] = []
    hosted: list[tuple[str, str]] = []
    for url, param in _image_urls(chat) + _markdown_hosted_urls(chat, options.hosted_base):
        kind = url_kind(url, options.hosted_base)
        if kind == "fetch":
            fetch.append((url, param))
        elif kind == "hosted":
            hosted.append((url, param))
    keys: list[str] = []
    prefixes = chat.prefixes
    for i, message in enumerate(chat.messages):
        if message.get("role") == "assistant":
            keys.extend(keys_for_assistant(message, prefixes[i], options))
    return Needs(tuple(dict.fromkeys(fetch)), tuple(dict.fromkeys(hosted)), tuple(keys))


def image_limit_for(model: str, overrides: tuple[tuple[str, int], ...] = ()) -> int:
    """The deployment's override (first matching model-name prefix), else the family's."""
    found = (limit for prefix, limit in overrides if model.startswith(prefix))
    return next(found, family_of(model).image_limit)


def to_gemini_request(
    chat: ChatRequest,
    resolved: Resolved,
    options: ViewOptions,
    image_limits: tuple[tuple[str, int], ...] = (),
) -> GeminiCall:
    contents = to_gemini_contents(chat, resolved, options)
    last_user = next((c for c in reversed(contents.contents) if c["role"] == "user"), None)
    limit = image_limit_for(chat.model, image_limits)
    if last_user is not None and count_images(last_user) > limit:
        raise InvalidRequestError(
            f"{chat.model} accepts at most {limit} reference images in one turn; this request "
            f"has {count_images(last_user)}",
            param="messages",
            code="too_many_images",
        )
    body: Json = {"contents": contents.contents}
    if contents.system_instruction:
        body["systemInstruction"] = contents.system_instruction
    tools, tool_config = to_gemini_tools(chat)
    if tools:
        body["tools"] = tools
    if tool_config:
        body["toolConfig"] = tool_config
    config = to_gemini_generation_config(chat)
    if config:
        body["generationConfig"] = config
    safety = chat.body.get("safetySettings") or chat.body.get("safety_settings")
    safety = safety or chat.google.get("safety_settings") or chat.google.get("safetySettings")
    if isinstance(safety, list):
        body["safetySettings"] = camelize(safety)
    cached = chat.google.get("cached_content") or chat.google.get("cachedContent")
    if isinstance(cached, str):
        body["cachedContent"] = cached
    labels = chat.google.get("labels")
    if isinstance(labels, dict):  # Vertex AI billing labels; dropped for AI Studio (backend_body)
        body["labels"] = labels
    return GeminiCall(body, contents.notes)
