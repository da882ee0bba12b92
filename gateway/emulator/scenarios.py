"""What the emulated model answers. Deterministic: the same request always gives the same parts.

The answer is built in CANONICAL form (whole text parts, signatures on the parts they sign); the
renderer cuts it into stream chunks, and `state.issued` records it as the turn a client must replay.
Signing follows gemini-api.md §4: Gemini 3 text signs its last part, Gemini 3 image models sign the
first text part and the image, every function-call turn signs its first call, 2.5 text is unsigned.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote

import orjson

from gateway.emulator.conversation import Conversation, Directives
from gateway.emulator.models import ModelInfo
from gateway.emulator.options import GenerationOptions, ToolOptions
from gateway.emulator.png import image_dimensions, render_image
from gateway.emulator.schema_values import sample_value
from gateway.emulator.signatures import Signer
from gateway.emulator.tokens import text_tokens

Style = Literal["text", "image", "calls", "empty"]
THOUGHT_TOKENS: Final = 12
CALLS_MESSAGE: Final = "Model generated function call(s)."
_URL: Final = re.compile(r"https?://[^\s\"'<>]+")
_SAFETY_CATEGORIES: Final = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)


@dataclass
class CandidateReply:
    parts: list[dict[str, Any]]
    finish_reason: str | None = "STOP"
    finish_message: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    style: Style = "text"


@dataclass
class Reply:
    """One response: candidates (canonical parts) or a prompt block, plus token accounting."""

    candidates: list[CandidateReply]
    block_reason: str | None = None
    thoughts_tokens: int | None = None
    image_tokens: int = 0


@dataclass(frozen=True)
class Request:
    """Everything an answer depends on."""

    model: ModelInfo
    options: GenerationOptions
    tools: ToolOptions
    conversation: Conversation
    signer: Signer


def compose_reply(request: Request, directives: Directives) -> Reply:
    model, options = request.model, request.options
    thinks = model.thinking and options.thinking_budget != 0
    reply = Reply([], thoughts_tokens=THOUGHT_TOKENS if thinks else None)
    reply.image_tokens = model.image_tokens(options.image_size)
    if directives.blocked:
        reply.thoughts_tokens = None
        reply.block_reason = "PROHIBITED_CONTENT"
        return reply
    empty = _empty_candidate(directives)
    if empty is not None:
        reply.candidates = [empty]
        return reply
    count = 1 if model.is_image else options.candidate_count
    reply.candidates = [_candidate(request, directives, index) for index in range(count)]
    return reply


def _empty_candidate(directives: Directives) -> CandidateReply | None:
    """The refusals that come back with `content: {}` (sample 04)."""
    if directives.no_image:
        return CandidateReply([], "NO_IMAGE", style="empty")
    if directives.image_safety:
        return CandidateReply([], "IMAGE_SAFETY", style="empty")
    if directives.safety:
        ratings = [
            {"category": c, "probability": "HIGH" if i == 1 else "NEGLIGIBLE"}
            | ({"blocked": True} if i == 1 else {})
            for i, c in enumerate(_SAFETY_CATEGORIES)
        ]
        return CandidateReply([], "SAFETY", extras={"safetyRatings": ratings}, style="empty")
    return None


def _candidate(request: Request, directives: Directives, index: int) -> CandidateReply:
    model, convo = request.model, request.conversation
    thoughts = _thought_parts(request)
    if model.is_image:
        candidate = _image_candidate(request, directives, thoughts)
    elif request.tools.may_call and (
        convo.fresh_turn or (convo.function_responses and convo.call_steps < convo.wanted_steps)
    ):
        return _calls_candidate(request, thoughts)
    elif convo.function_responses:
        done = [
            {"name": r.get("name"), "response": r.get("response")} for r in convo.function_responses
        ]
        candidate = CandidateReply([*thoughts, {"text": "Done: " + orjson.dumps(done).decode()}])
    else:
        candidate = _text_candidate(request, thoughts, index)
    if directives.max_tokens or _over_budget(candidate, request.options.max_output_tokens):
        _truncate(candidate, request.options.max_output_tokens)
    _sign(candidate, request)
    return candidate


def _thought_parts(request: Request) -> list[dict[str, Any]]:
    """A thought summary when asked for; Gemini 3 image models add an interim (draft) image."""
    model, options, convo = request.model, request.options, request.conversation
    if not (options.include_thoughts and model.thinking and options.thinking_budget != 0):
        return []
    subject = convo.prompt[:60] or "the request"
    heading = "**Composing the image**" if model.is_image else "**Reading the request**"
    parts: list[dict[str, Any]] = [
        {
            "text": f"{heading}\n\nThe user asked for: {subject}. Planning the answer.\n\n",
            "thought": True,
        }
    ]
    if model.is_image and model.is_gemini3 and options.wants("IMAGE"):
        parts.append(_image_part(request, draft=True) | {"thought": True})
    return parts


def _text_candidate(request: Request, thoughts: list[dict[str, Any]], index: int) -> CandidateReply:
    options, convo, tools = request.options, request.conversation, request.tools
    label = "Echo" if index == 0 else f"Echo [{index + 1}]"
    text = f"{label}: {convo.prompt}"
    if options.response_mime_type == "application/json":
        value = (
            sample_value(options.response_schema, convo.word) if options.response_schema else None
        )
        text = orjson.dumps(value if value is not None else {"echo": convo.prompt}).decode()
    elif options.response_mime_type == "text/x.enum" and options.response_schema:
        text = str(sample_value(options.response_schema, convo.word))
    parts: list[dict[str, Any]] = [*thoughts]
    extras: dict[str, Any] = {}
    if tools.code_execution:
        snippet = convo.prompt[:40]
        parts.append({"executableCode": {"language": "PYTHON", "code": f"print(len({snippet!r}))"}})
        parts.append(
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": f"{len(snippet)}\n"}}
        )
    parts.append({"text": text})
    if tools.google_search:
        extras["groundingMetadata"] = _grounding(convo, text)
    if tools.url_context:
        urls = _URL.findall(convo.prompt) or ["https://example.com/"]
        extras["urlContextMetadata"] = {
            "urlMetadata": [
                {"retrievedUrl": u, "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"}
                for u in urls
            ]
        }
    return CandidateReply(parts, extras=extras)


def _grounding(convo: Conversation, text: str) -> dict[str, Any]:
    query = convo.prompt[:100] or convo.word
    return {
        "webSearchQueries": [query],
        "groundingChunks": [
            {
                "web": {
                    "uri": f"https://example.com/search?q={quote(convo.word)}",
                    "title": "example.com",
                }
            }
        ],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": len(text.encode()), "text": text},
                "groundingChunkIndices": [0],
            }
        ],
    }


def _image_candidate(
    request: Request, directives: Directives, thoughts: list[dict[str, Any]]
) -> CandidateReply:
    options, prompt = request.options, request.conversation.prompt
    parts = [*thoughts]
    with_image = options.wants("IMAGE") and not directives.max_tokens
    if options.wants("TEXT") or directives.max_tokens:
        parts.append({"text": f"Here is your image: {prompt}" if with_image else f"Echo: {prompt}"})
    if with_image:
        parts.append(_image_part(request, draft=False))
    return CandidateReply(parts, style="image" if with_image else "text")


def _image_part(request: Request, *, draft: bool) -> dict[str, Any]:
    options, convo = request.options, request.conversation
    width, height = image_dimensions(options.aspect_ratio, options.image_size)
    png = render_image(
        width,
        height,
        texts=convo.user_texts,
        bands=convo.model_images,
        swatches=convo.reference_images,
        draft=draft,
    )
    return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode("ascii")}}


def _calls_candidate(request: Request, thoughts: list[dict[str, Any]]) -> CandidateReply:
    convo, tools = request.conversation, request.tools
    pool = [d for d in tools.declarations if d.get("name") in tools.allowed] or list(
        tools.declarations
    )
    if convo.wants_parallel:
        chosen = pool[:2]
    else:
        named = [d for d in pool if _mentions(convo.prompt, str(d.get("name")))]
        chosen = [named[0] if named else pool[0]]
    calls: list[dict[str, Any]] = [
        {"functionCall": {"name": d["name"], "args": _arguments(d, convo.word)}} for d in chosen
    ]
    calls[0]["thoughtSignature"] = request.signer.issue(calls[0])
    return CandidateReply([*thoughts, *calls], finish_message=CALLS_MESSAGE, style="calls")


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def _arguments(declaration: dict[str, Any], word: str) -> dict[str, Any]:
    schema = declaration.get("parametersJsonSchema") or declaration.get("parameters_json_schema")
    schema = schema or declaration.get("parameters")
    value = sample_value(schema, word) if isinstance(schema, dict) else {}
    return value if isinstance(value, dict) else {}


def _visible_text(candidate: CandidateReply) -> list[dict[str, Any]]:
    return [p for p in candidate.parts if "text" in p and not p.get("thought")]


def _over_budget(candidate: CandidateReply, limit: int | None) -> bool:
    return (
        limit is not None and sum(text_tokens(p["text"]) for p in _visible_text(candidate)) > limit
    )


def _truncate(candidate: CandidateReply, limit: int | None) -> None:
    """MAX_TOKENS: the last visible text cut short (to the token limit, or in half)."""
    texts = _visible_text(candidate)
    if texts:
        text = texts[-1]["text"]
        texts[-1]["text"] = text[: limit * 4] if limit else text[: max(6, len(text) // 2)]
    candidate.finish_reason = "MAX_TOKENS"


def _sign(candidate: CandidateReply, request: Request) -> None:
    """Gemini 3: the last part (text answers) or first text + every final image (image models)."""
    if not request.model.is_gemini3 or candidate.style == "calls":
        return
    final = [p for p in candidate.parts if not p.get("thought")]
    if candidate.style == "image":
        targets = [p for p in final if "inlineData" in p]
        if final and "text" in final[0]:
            targets.insert(0, final[0])
    else:
        targets = final[-1:]
    for part in targets:
        part["thoughtSignature"] = request.signer.issue(part)
