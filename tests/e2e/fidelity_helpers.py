"""The fidelity harness: each client pattern is one function that makes a call the way that
client does and returns the assistant message exactly as that client would put it back into
its history; `converse` runs a multi-turn conversation with it and checks, after every call,
that the model turns the emulator received are the turns it issued (design.md "The fidelity
invariant")."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from PIL import Image

IMAGE_MODELS = ("gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview")
TOOL_MODEL = "gemini-3-pro-preview"
EDIT_PROMPTS = ("a red fox in the snow", "make it night time", "add a full moon")
SIG = "thoughtSignature"
DUMMY = "skip_thought_signature_validator"


def _function(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }


TOOLS = [_function("get_weather", "Weather in a city"), _function("get_time", "Local time")]


# -- what the upstream saw -----------------------------------------------------------------------


def replayable(parts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts a faithful replay must carry. `thought: true` parts are left out: Gemini returns
    thought summaries and interim images unsigned, and the gateway deliberately does not replay
    unsigned thought parts (turn_view.py), so they are not part of the invariant."""
    return [p for p in parts if not p.get("thought")]


def model_turns(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [c["parts"] for c in body["contents"] if c["role"] == "model"]


def assert_faithful(emulator: Any, issued: Sequence[dict[str, Any]] | None = None) -> None:
    """The last upstream request replays the first N issued turns part for part, every
    signature byte-exact (so the emulator verified each one `ok`), and no dummy anywhere."""
    request = emulator.requests[-1]
    sent = model_turns(request.body)
    issued = emulator.issued if issued is None else issued
    expected = [replayable(t["parts"]) for t in issued[: len(sent)]]
    assert len(expected) == len(sent), "more model turns were sent than the emulator issued"
    assert sent == expected
    signed = sum(1 for parts in sent for p in parts if SIG in p)
    assert request.verdicts == ["ok"] * signed


def assert_degraded_without_corruption(emulator: Any) -> list[str]:
    """A visible fallback: no corrupted or missing signature, the request went through."""
    request = emulator.requests[-1]
    assert not {"corrupted", "missing"} & set(request.verdicts), request.verdicts
    return request.verdicts


def signature_count(body: dict[str, Any], value: str) -> int:
    return sum(1 for parts in model_turns(body) for p in parts if p.get(SIG) == value)


async def metrics(stack: Any) -> dict[str, float]:
    """`/metrics` samples by series, e.g. `gateway_turn_sources_total{source="cache"}`."""
    async with stack.http() as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples


def turn_sources(samples: dict[str, float]) -> dict[str, float]:
    prefix = 'gateway_turn_sources_total{source="'
    return {k[len(prefix) : -2]: v for k, v in samples.items() if k.startswith(prefix) and v}


def fallbacks(samples: dict[str, float]) -> dict[str, float]:
    prefix = 'gateway_signature_fallbacks_total{kind="'
    return {k[len(prefix) : -2]: v for k, v in samples.items() if k.startswith(prefix) and v}


# -- images -----------------------------------------------------------------------------------------


def png_bytes(url: str) -> bytes:
    assert url.startswith("data:image/png;base64,"), url[:40]
    data = base64.b64decode(url.split(",", 1)[1], validate=True)
    assert data.startswith(b"\x89PNG")
    return data


def band_count(png: bytes) -> int:
    """The emulator draws one stripe per earlier model image it received (2n+1 runs of colour
    down the right-most column, which reference swatches never reach)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        x = rgb.width - 1
        column = [rgb.getpixel((x, y)) for y in range(rgb.height)]
    runs = 1 + sum(1 for a, b in pairwise(column) if a != b)
    return (runs - 1) // 2


def first_image_url(message: Any) -> str | None:
    """`images[0]` of an SDK object or a dict, else the first markdown data URL in `content`."""
    extra = message if isinstance(message, dict) else (message.model_extra or {})
    for item in extra.get("images") or []:
        if not item.get("thought"):
            return str(item["image_url"]["url"])
    content = message.get("content") if isinstance(message, dict) else message.content
    return markdown_image_url(content if isinstance(content, str) else json.dumps(content))


def markdown_image_url(text: str | None) -> str | None:
    if not text or "](data:" not in text:
        return None
    start = text.index("](data:") + 2
    return text[start : text.index(")", start)]


# -- patterns ----------------------------------------------------------------------------------------


@dataclass
class Turn:
    message: Any  # what the client appends to its history
    png: bytes | None  # the image the client got back, if any


Reply = Callable[..., Awaitable[Turn]]


@dataclass(frozen=True)
class Pattern:
    name: str
    reply: Reply  # (session, model, history, **create_kwargs) -> Turn
    langchain: bool = False

    def user(self, text: str) -> Any:
        if self.langchain:
            from langchain_core.messages import HumanMessage

            return HumanMessage(text)
        return {"role": "user", "content": text}

    def tool_result(self, call_id: str, output: str) -> Any:
        if self.langchain:
            from langchain_core.messages import ToolMessage

            return ToolMessage(output, tool_call_id=call_id)
        return {"role": "tool", "tool_call_id": call_id, "content": output}


def tool_call_ids(message: Any) -> list[str]:
    """The ids a client answers with `tool` messages, whatever shape it keeps the message in."""
    if isinstance(message, dict):
        return [c["id"] for c in message.get("tool_calls") or []]
    calls = message.tool_calls or []
    return [c["id"] if isinstance(c, dict) else c.id for c in calls]


@dataclass
class Session:
    """One conversation's clients (made once, so every turn shares a connection pool)."""

    stack: Any
    openai: Any = None
    llms: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.openai = self.stack.openai()

    def llm(self, model: str, output_version: str | None) -> Any:
        key = (model, output_version)
        if key not in self.llms:
            kwargs = {"output_version": output_version} if output_version else {}
            self.llms[key] = self.stack.langchain(model, **kwargs)
        return self.llms[key]


def _png_of(message: Any) -> bytes | None:
    """The image as the client got it inline (hosted links are not fetched here)."""
    url = first_image_url(message)
    return png_bytes(url) if url and url.startswith("data:") else None


async def _create(session: Session, model: str, history: list[Any], **kw: Any) -> Any:
    reply = await session.openai.chat.completions.create(model=model, messages=history, **kw)
    return reply.choices[0].message


async def sdk_object(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    message = await _create(session, model, history, **kw)
    return Turn(message, _png_of(message))


async def model_dump(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    message = await _create(session, model, history, **kw)
    return Turn(message.model_dump(), _png_of(message))


async def model_dump_exclude_none(
    session: Session, model: str, history: list[Any], **kw: Any
) -> Turn:
    message = await _create(session, model, history, **kw)
    return Turn(message.model_dump(exclude_none=True), _png_of(message))


def _hand_built_calls(calls: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {"name": c.function.name, "arguments": c.function.arguments},
        }
        for c in calls
    ]


async def content_only(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """The seed guide's pattern: `{"role": "assistant", "content": msg.content}` (tool calls, if
    any, rebuilt by hand as `{id, type, function}` with no extra fields)."""
    message = await _create(session, model, history, **kw)
    built: dict[str, Any] = {"role": "assistant", "content": message.content}
    if message.tool_calls:
        built["tool_calls"] = _hand_built_calls(message.tool_calls)
    return Turn(built, _png_of(message))


async def stream_by_hand(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """`content += delta.content`; tool calls merged by `index`; nothing else kept."""
    stream = await session.openai.chat.completions.create(
        model=model, messages=history, stream=True, **kw
    )
    content = ""
    calls: dict[int, dict[str, Any]] = {}
    async for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(
                    delta.index,
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                call["id"] = delta.id or call["id"]
                if delta.function is not None:
                    call["function"]["name"] += delta.function.name or ""
                    call["function"]["arguments"] += delta.function.arguments or ""
    built: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        built["tool_calls"] = [calls[i] for i in sorted(calls)]
    url = markdown_image_url(content)
    return Turn(built, png_bytes(url) if url else None)


async def stream_helper(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """The SDK's `client.chat.completions.stream(...)` helper (AsyncOpenAI), final message."""
    manager = session.openai.chat.completions.stream(model=model, messages=history, **kw)
    async with manager as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_completion()
    message = final.choices[0].message
    return Turn(message, _png_of(message))


async def to_dict(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    message = await _create(session, model, history, **kw)
    return Turn(message.to_dict(), _png_of(message))


async def stream_helper_dump(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """The stream helper's final message, kept as `model_dump(exclude_none=True)`."""
    turn = await stream_helper(session, model, history, **kw)
    return Turn(turn.message.model_dump(exclude_none=True), turn.png)


async def stream_state(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """`ChatCompletionStreamState().handle_chunk(c)` over `create(stream=True)`."""
    from openai.lib.streaming.chat import ChatCompletionStreamState

    state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    stream = await session.openai.chat.completions.create(
        model=model, messages=history, stream=True, **kw
    )
    async for chunk in stream:
        state.handle_chunk(chunk)
    message = state.get_final_completion().choices[0].message
    return Turn(message, _png_of(message))


async def json_saved(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    """`model_dump()`, then saved with `json.dumps` and loaded back, as a chat app's DB does."""
    message = await _create(session, model, history, **kw)
    return Turn(json.loads(json.dumps(message.model_dump())), _png_of(message))


def langchain(*, stream: bool, output_version: str | None = None) -> Reply:
    """LangChain `ChatOpenAI`: the AIMessage from `ainvoke`, or `acc = acc + chunk` over
    `astream`, goes back into the history as is (it keeps only `content` and tool calls)."""

    async def reply(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
        llm = session.llm(model, output_version)
        if not stream:
            message = await llm.ainvoke(history, **kw)
        else:
            message = None
            async for chunk in llm.astream(history, **kw):
                message = chunk if message is None else message + chunk
            assert message is not None
        content = message.content
        url = markdown_image_url(content if isinstance(content, str) else json.dumps(content))
        return Turn(message, png_bytes(url) if url else None)

    return reply


# Patterns that send our own carrier back (no server state needed) ...
CARRIER_PATTERNS = (
    Pattern("sdk_object", sdk_object),
    Pattern("model_dump", model_dump),
    Pattern("model_dump_exclude_none", model_dump_exclude_none),
    Pattern("to_dict", to_dict),
    Pattern("stream_helper", stream_helper),
    Pattern("stream_helper_dump", stream_helper_dump),
    Pattern("stream_state", stream_state),
    Pattern("json_saved", json_saved),
)
# ... and patterns that keep only `content` (and tool-call ids): served by the turn cache.
CACHE_PATTERNS = (
    Pattern("content_only", content_only),
    Pattern("stream_by_hand", stream_by_hand),
    Pattern("lc_invoke", langchain(stream=False), langchain=True),
    Pattern("lc_stream", langchain(stream=True), langchain=True),
    Pattern("lc_invoke_v1", langchain(stream=False, output_version="v1"), langchain=True),
    Pattern("lc_stream_v1", langchain(stream=True, output_version="v1"), langchain=True),
)
ALL_PATTERNS = CARRIER_PATTERNS + CACHE_PATTERNS


async def converse(
    session: Session,
    pattern: Pattern,
    model: str,
    prompts: Sequence[str],
    *,
    check: bool = True,
    **create_kwargs: Any,
) -> list[Turn]:
    """One user prompt per turn; the assistant message goes back the pattern's way; with
    `check`, every request is checked with `assert_faithful`."""
    history: list[Any] = [pattern.user(prompts[0])]
    turns: list[Turn] = []
    for k in range(len(prompts)):
        turn = await pattern.reply(session, model, history, **create_kwargs)
        if check:
            assert_faithful(session.stack.emulator)
        turns.append(turn)
        if k + 1 < len(prompts):
            history += [turn.message, pattern.user(prompts[k + 1])]
    return turns
