"""How one Gemini model turn looks to an OpenAI client, part by part.

Shared by the unary and streaming responses (they must render identically, so that content
accumulated from a stream equals the unary `content`) and by the request side, which renders a
remembered turn again to check that a client sent it back unchanged.

The replayed turn (`replay_parts`) is what goes back to Gemini on the next request: every
non-thought part byte-exact with its signature, consecutive streamed text merged into one part
and a trailing empty-text signature moved onto the text it closes (gemini-api.md §3).
Thought parts are not replayed unless they carry a signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from gateway.translate.data_urls import (
    IMAGE_SEPARATOR,
    fingerprint,
    markdown_image_pieces,
    to_data_url,
)
from gateway.translate.signatures import SIG

GOOGLE: Final = "google"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ViewOptions:
    image_markdown: bool = True
    thought_images: bool = False
    hosted_base: str | None = None  # when set, images are shown as hosted URLs, not data URLs
    call_id_prefix: str = "call_"
    backend: str = ""  # tag for signature carriers ("" = AI Studio; request/origin.py)


@dataclass(slots=True)
class Emitted:
    """What one part adds to the OpenAI message; the stream turns each into one delta."""

    content: str = ""
    reasoning: str = ""
    tool_call: Json | None = None
    image: Json | None = None


def hosted_name(mime_type: str, data_fingerprint: str) -> str:
    ext = mime_type.split("/", 1)[-1].replace("jpeg", "jpg").split("+")[0]
    return f"{data_fingerprint}.{ext}"


def with_signature(item: Json, signature: str | None, backend: str = "") -> Json:
    """The signature on its item, tagged with the backend that minted it (not on AI Studio)."""
    if signature is not None:
        google: Json = {"thought_signature": signature}
        if backend:
            google["backend"] = backend
        item["extra_content"] = {GOOGLE: google}
    return item


@dataclass
class TurnView:
    """Accumulates one candidate's parts; `add` returns what a stream should emit for the part."""

    options: ViewOptions
    call_id_seed: str = ""
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    images: list[Json] = field(default_factory=list)
    tool_calls: list[Json] = field(default_factory=list)
    replay_parts: list[Json] = field(default_factory=list)
    carrier: list[Json] = field(default_factory=list)
    hosted: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (mime, b64)
    last_visible: str = ""  # "", "text" or "image"
    _merge_text: bool = False
    _joined: str = ""
    _joined_upto: int = 0
    _data_url_parts: dict[int, int] = field(default_factory=dict)  # id(url) -> part index

    def add(self, part: Json, *, streamed: bool = False) -> Emitted:
        if "text" in part:
            return self._text(part, streamed)
        if "inlineData" in part or "inline_data" in part:
            return self._inline(part, streamed)
        if "functionCall" in part or "function_call" in part:
            return self._function_call(part)
        self._merge_text = False
        self.replay_parts.append(part)
        self.carrier.append({"part": part})
        return Emitted(content=self._visible_text(_render_other(part)))

    # -- text -----------------------------------------------------------------------------
    def _text(self, part: Json, streamed: bool) -> Emitted:
        text: str = part.get("text") or ""
        sig = part.get(SIG)
        if part.get("thought"):
            self._merge_text = False
            if sig is not None:
                self.replay_parts.append(part)
                self.carrier.append({"thought": text, "thought_signature": sig})
            self.reasoning.append(text)
            return Emitted(reasoning=text)
        last = self.replay_parts[-1] if self.replay_parts else None
        mergeable = (
            streamed
            and self._merge_text
            and last is not None
            and "text" in last
            and (sig is None or SIG not in last)
        )
        if mergeable and last is not None:
            merged = dict(last)
            merged["text"] = last["text"] + text
            if sig is not None:
                merged[SIG] = sig
            self.replay_parts[-1] = merged
            self.carrier[-1] = _text_descriptor(merged)
        elif text or sig is not None:
            self.replay_parts.append(part)
            self.carrier.append(_text_descriptor(part))
        self._merge_text = True
        return Emitted(content=self._visible_text(text))

    def _visible_text(self, text: str) -> str:
        if not text:
            return ""
        if self.last_visible == "image":
            text = IMAGE_SEPARATOR + text
        self.last_visible = "text"
        self.content.append(text)
        return text

    # -- images -----------------------------------------------------------------------------
    def _inline(self, part: Json, streamed: bool) -> Emitted:
        self._merge_text = False
        blob = part.get("inlineData") or part.get("inline_data") or {}
        mime = blob.get("mimeType") or blob.get("mime_type") or "application/octet-stream"
        data = blob.get("data") or ""
        thought = bool(part.get("thought"))
        if not mime.startswith("image/"):
            self.replay_parts.append(part)
            self.carrier.append({"part": part})
            return Emitted()
        if thought and not self.options.thought_images:
            return Emitted()
        url = to_data_url(mime, data)
        if self.options.hosted_base:
            name = hosted_name(mime, fingerprint(data))
            self.hosted[name] = (mime, data)
            url = f"{self.options.hosted_base}/v1/files/{name}"
        index = len(self.images)
        item: Json = {"type": "image_url", "image_url": {"url": url}, "index": index}
        if thought:
            item["thought"] = True
        self.images.append(with_signature(item, part.get(SIG), self.options.backend))
        content = ""
        if not thought:
            self.replay_parts.append(part)
            self.carrier.append({"image": index})
            if self.options.image_markdown:
                lead = IMAGE_SEPARATOR if self.last_visible else ""
                pieces = (lead, *markdown_image_pieces(url, index))
                self.last_visible = "image"
                self.content.extend(pieces)  # joined once, by content_text
                if not self.options.hosted_base:
                    self._data_url_parts[id(url)] = len(self.replay_parts) - 1
                if streamed:  # a stream sends it as a delta of its own
                    content = "".join(pieces)
        return Emitted(content=content, image=item)

    # -- function calls -----------------------------------------------------------------------
    def _function_call(self, part: Json) -> Emitted:
        self._merge_text = False
        call = part.get("functionCall") or part.get("function_call") or {}
        index = len(self.tool_calls)
        call_id = call.get("id") or f"{self.options.call_id_prefix}{self.call_id_seed}_{index}"
        arguments = orjson.dumps(call.get("args") or {}).decode()
        item: Json = {
            "id": call_id,
            "type": "function",
            "function": {"name": call.get("name", ""), "arguments": arguments},
        }
        self.tool_calls.append(with_signature(item, part.get(SIG), self.options.backend))
        self.replay_parts.append(part)
        self.carrier.append({"tool_call": index, **({"native_id": True} if call.get("id") else {})})
        return Emitted(tool_call={"index": index, **item})

    # -- results ------------------------------------------------------------------------------
    @property
    def content_text(self) -> str:
        """Joined once per change (a mirrored image makes it megabytes long); the pieces stay,
        for `content_pieces`."""
        if self._joined_upto != len(self.content):
            self._joined = "".join(self.content)
            self._joined_upto = len(self.content)
        return self._joined

    def content_pieces(self) -> list[str | dict[str, int]]:
        """`content` with each mirrored data URL as `{"part": i}` (replay_parts[i]): a turn
        record then holds each image once, not twice (see `shows`)."""
        pieces: list[str | dict[str, int]] = []
        text: list[str] = []
        for piece in self.content:
            part = self._data_url_parts.get(id(piece))
            if part is None:
                text.append(piece)
                continue
            if text:
                pieces.append("".join(text))
                text = []
            pieces.append({"part": part})
        if text:
            pieces.append("".join(text))
        return pieces

    @property
    def first_text_signature(self) -> str | None:
        for part in self.replay_parts:
            if "text" in part and not part.get("thought"):
                sig = part.get(SIG)
                return sig if isinstance(sig, str) else None
        return None

    def extra_content(self) -> Json:
        google: Json = {"parts": self.carrier}
        sig = self.first_text_signature
        if sig is not None:
            google["thought_signature"] = sig
        if self.options.backend:
            google["backend"] = self.options.backend
        return {GOOGLE: google}


def _text_descriptor(part: Json) -> Json:
    desc: Json = {"text": part.get("text") or ""}
    if part.get(SIG) is not None:
        desc["thought_signature"] = part[SIG]
    return desc


def _render_other(part: Json) -> str:
    """Code execution parts become fenced blocks in `content` (documented in the README)."""
    code = part.get("executableCode") or part.get("executable_code")
    if isinstance(code, dict):
        lang = str(code.get("language", "")).lower().replace("language_unspecified", "")
        return f"\n```{lang}\n{code.get('code', '')}\n```\n"
    result = part.get("codeExecutionResult") or part.get("code_execution_result")
    if isinstance(result, dict):
        return f"\n```output\n{result.get('output', '')}\n```\n"
    return ""


def render_content(parts: list[Json], options: ViewOptions) -> str:
    """The `content` string a client received for these replay parts (used to detect edits)."""
    view = TurnView(options)
    for part in parts:
        view.add(part)
    return view.content_text
