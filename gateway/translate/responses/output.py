"""One Gemini model turn → Responses output items, part by part, for the unary reply and the
stream alike (so `stream()` + `get_final_response()` equals the unary object).

The turn goes through the chat path's TurnView (markdown mirror off), which already knows which
parts Gemini must get back and how streamed text merges; this module only lays those parts out
as items:

- thought text → the `reasoning` item's `summary[]` (one summary_text per run of thoughts);
- text → `output_text` parts of a `message` item, one per replayed text part;
- image → an `image_generation_call` (base64 `result`, `output_format` from Gemini's mime);
  interim "thinking" images → `partial_image` events only when the tool asked for them;
- functionCall → a `function_call` item (call_id: Gemini's id or a generated one);
- anything else (code execution) → kept for replay, shown as output_text like chat shows it.

The `reasoning` item is always output[0] and is closed last: its `encrypted_content` (the
envelope, envelope.py) can only be sealed once the turn's last signature has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from gateway.translate.data_urls import fingerprint, parse_data_url
from gateway.translate.images.reply import format_of
from gateway.translate.response.message import add_finish_note, grounding_annotations
from gateway.translate.responses.envelope import seal
from gateway.translate.signatures import SIG
from gateway.translate.turn_view import TurnView, ViewOptions, _render_other

Json = dict[str, Any]

VIEW: Final = ViewOptions(image_markdown=False, thought_images=False)


@dataclass(frozen=True, slots=True)
class OutputContext:
    response_id: str  # resp_<hex>
    model: str
    backend: str  # which upstream signed the turn: envelopes do not cross backends
    secret: bytes
    partial_images: int = 0  # the image_generation tool's `partial_images`


@dataclass
class OutputBuilder:
    """Feed parts in order; `events` collects stream events (without sequence numbers) when
    `streaming`, and `items` is the output so far. Call `finish` once at the end."""

    ctx: OutputContext
    streaming: bool = False
    view: TurnView = field(init=False)
    items: list[Json] = field(default_factory=list)
    events: list[Json] = field(default_factory=list)
    open: int | None = None  # index of the open message / call / image item
    summary_open: bool = False
    partials: int = 0
    pending_image: int | None = None  # an image call opened by partial images
    _ids: int = 0

    def __post_init__(self) -> None:
        seed = self.ctx.response_id.removeprefix("resp_")
        self.view = TurnView(VIEW, call_id_seed=fingerprint(seed)[:12])
        reasoning = {"id": self._id("rs"), "type": "reasoning", "summary": []}
        self._add_item(reasoning)

    # -- ids and events ----------------------------------------------------------------------
    def _id(self, kind: str) -> str:
        self._ids += 1
        return f"{kind}_{self.ctx.response_id.removeprefix('resp_')}{self._ids:03d}"

    def _emit(self, kind: str, **fields: Any) -> None:
        if self.streaming:
            self.events.append({"type": kind, **fields})

    def _add_item(self, item: Json) -> int:
        self.items.append(item)
        index = len(self.items) - 1
        self._emit("response.output_item.added", output_index=index, item=_snapshot(item))
        return index

    def _where(self, index: int) -> Json:
        return {"item_id": self.items[index]["id"], "output_index": index}

    # -- parts ---------------------------------------------------------------------------------
    def feed(self, part: Json, *, streamed: bool = False) -> None:
        if "text" in part:
            self._text(part, streamed)
        elif isinstance(part.get("inlineData") or part.get("inline_data"), dict):
            self._inline(part, streamed)
        elif "functionCall" in part or "function_call" in part:
            self._call(part)
        else:
            self._close_summary()
            shown = self.view.add(part).content
            if shown:
                self._new_text(shown)

    def _text(self, part: Json, streamed: bool) -> None:
        if part.get("thought"):
            self.view.add(part, streamed=streamed)
            self._summary(str(part.get("text") or ""))
            return
        self._close_summary()
        before = len(self.view.replay_parts)
        shown = self.view.add(part, streamed=streamed).content
        if len(self.view.replay_parts) > before:
            self._new_text(shown)
        elif shown:
            self._append_text(shown)

    def _new_text(self, text: str) -> None:
        if self.open is None or self.items[self.open]["type"] != "message":
            self._close_open()
            self.open = self._add_item(
                {
                    "id": self._id("msg"),
                    "type": "message",
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                }
            )
        message = self.items[self.open]
        message["content"].append({"type": "output_text", "text": "", "annotations": []})
        self._emit(
            "response.content_part.added",
            **self._where(self.open),
            content_index=len(message["content"]) - 1,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        self._append_text(text)

    def _append_text(self, text: str) -> None:
        if not text or self.open is None:
            return
        content = self.items[self.open]["content"]
        content[-1]["text"] += text
        self._emit(
            "response.output_text.delta",
            **self._where(self.open),
            content_index=len(content) - 1,
            delta=text,
            logprobs=[],
        )

    def _summary(self, text: str) -> None:
        if not text:
            return
        summary = self.items[0]["summary"]
        where = self._where(0)
        if not self.summary_open:
            summary.append({"type": "summary_text", "text": ""})
            self.summary_open = True
            self._emit(
                "response.reasoning_summary_part.added",
                **where,
                summary_index=len(summary) - 1,
                part={"type": "summary_text", "text": ""},
            )
        summary[-1]["text"] += text
        self._emit(
            "response.reasoning_summary_text.delta",
            **where,
            summary_index=len(summary) - 1,
            delta=text,
        )

    def _close_summary(self) -> None:
        if not self.summary_open:
            return
        self.summary_open = False
        summary = self.items[0]["summary"]
        where = {**self._where(0), "summary_index": len(summary) - 1}
        text = summary[-1]["text"]
        self._emit("response.reasoning_summary_text.done", **where, text=text)
        self._emit("response.reasoning_summary_part.done", **where, part=dict(summary[-1]))

    def _inline(self, part: Json, streamed: bool) -> None:
        blob = part.get("inlineData") or part.get("inline_data") or {}
        mime = str(blob.get("mimeType") or blob.get("mime_type") or "")
        if not mime.startswith("image/"):
            self._close_summary()
            self.view.add(part, streamed=streamed)  # replayed, never shown (as in chat)
            return
        if part.get("thought"):
            self._partial(blob)
            return
        self._close_summary()
        self.view.add(part, streamed=streamed)
        index, self.pending_image = self.pending_image, None
        if index is None:
            self._close_open()
            index = self._open_image()
        item = self.items[index]
        item.update(status="completed", result=str(blob.get("data") or ""))
        fmt = format_of(mime)
        if fmt is not None:
            item["output_format"] = fmt
        self._close_item(index)

    def _open_image(self) -> int:
        index = self._add_item(
            {"id": self._id("ig"), "type": "image_generation_call", "status": "in_progress"}
        )
        self.items[index]["result"] = None
        self._emit("response.image_generation_call.in_progress", **self._where(index))
        self._emit("response.image_generation_call.generating", **self._where(index))
        return index

    def _partial(self, blob: Json) -> None:
        """An interim image, sent only when the image_generation tool asked for partials."""
        if not self.streaming or self.partials >= self.ctx.partial_images:
            return
        self._close_summary()
        if self.pending_image is None:
            self._close_open()
            self.pending_image = self._open_image()  # stays open until the final image
        self._emit(
            "response.image_generation_call.partial_image",
            **self._where(self.pending_image),
            partial_image_index=self.partials,
            partial_image_b64=str(blob.get("data") or ""),
        )
        self.partials += 1

    def _call(self, part: Json) -> None:
        self._close_summary()
        self._close_open()
        call = self.view.add(part).tool_call or {}
        fn = call.get("function") or {}
        item: Json = {
            "id": self._id("fc"),
            "type": "function_call",
            "call_id": call.get("id", ""),
            "name": fn.get("name", ""),
            "arguments": "",
            "status": "in_progress",
        }
        self.open = self._add_item(item)
        arguments = str(fn.get("arguments") or "{}")
        item["arguments"] = arguments
        self._emit(
            "response.function_call_arguments.delta", **self._where(self.open), delta=arguments
        )
        self._emit(
            "response.function_call_arguments.done",
            **self._where(self.open),
            name=item["name"],
            arguments=arguments,
        )
        self._close_open()

    def _close_open(self) -> None:
        index, self.open = self.open, None
        if index is not None:
            self._close_item(index)

    def _close_item(self, index: int) -> None:
        item = self.items[index]
        if item["type"] == "message":
            for k, content in enumerate(item["content"]):
                where = {**self._where(index), "content_index": k}
                self._emit("response.output_text.done", **where, text=content["text"], logprobs=[])
                self._emit("response.content_part.done", **where, part=dict(content))
        elif item["type"] == "image_generation_call":
            if item["status"] != "completed":
                item["status"] = "failed"  # partials came, the final image did not
            self._emit("response.image_generation_call.completed", **self._where(index))
        item["status"] = "completed" if item["status"] == "in_progress" else item["status"]
        self._emit("response.output_item.done", output_index=index, item=_snapshot(item))

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, candidate: Json | None, note_reason: str | None = None) -> None:
        """Close every item. `candidate` (the last state of candidate 0) gives the finish
        note and grounding annotations; `note_reason` stands in for a blocked prompt."""
        candidate = candidate or {}
        self._close_summary()
        reason = candidate.get("finishReason")
        note = note_reason or add_finish_note(self.view, reason, candidate.get("finishMessage"))
        if note_reason:
            self.view.carrier.append({"note": note_reason})
        if note:
            self._new_text(note)
        annotations = _annotations(candidate)
        if annotations and self.open is not None and self.items[self.open]["type"] == "message":
            self.items[self.open]["content"][-1]["annotations"] = annotations
        self._close_open()
        if self.pending_image is not None:
            self._close_item(self.pending_image)  # partials came, the final image did not
            self.pending_image = None
        reasoning = self.items[0]
        reasoning["encrypted_content"] = seal(
            self.layout(), model=self.ctx.model, backend=self.ctx.backend, secret=self.ctx.secret
        )
        self._emit("response.output_item.done", output_index=0, item=_snapshot(reasoning))

    def layout(self) -> list[Json]:
        """The envelope's part list (envelope.py), from the chat carrier the view kept."""
        out: list[Json] = []
        for desc in self.view.carrier:
            entry: Json
            if "text" in desc:
                entry = {"t": fingerprint(str(desc["text"]))}
                sig = desc.get("thought_signature")
            elif "thought" in desc:
                entry = {"th": desc["thought"]}
                sig = desc.get("thought_signature")
            elif "image" in desc:
                image = self.view.images[desc["image"]]
                parsed = parse_data_url(image["image_url"]["url"])
                data = parsed.data if parsed else ""
                entry = {"i": fingerprint(data), "mt": parsed.mime_type if parsed else ""}
                sig = _signature(image)
            elif "tool_call" in desc:
                call = self.view.tool_calls[desc["tool_call"]]
                entry = {"c": call["id"], "a": args_fingerprint(call["function"]["arguments"])}
                if desc.get("native_id"):
                    entry["n"] = 1
                sig = _signature(call)
            elif "part" in desc:
                entry = {"x": desc["part"]}
                if _render_other(desc["part"]):
                    entry["r"] = 1
                sig = None
            else:
                entry, sig = {"note": str(desc.get("note", ""))}, None
            if sig:
                entry["s"] = sig
            out.append(entry)
        return out


def args_fingerprint(arguments: Any) -> str:
    """Function arguments compared as JSON values (key order and spacing do not count)."""
    try:
        value = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    except orjson.JSONDecodeError:
        return fingerprint(str(arguments))
    return fingerprint(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _signature(item: Json) -> str | None:
    sig = ((item.get("extra_content") or {}).get("google") or {}).get("thought_signature")
    return sig if isinstance(sig, str) else None


def _annotations(candidate: Json) -> list[Json]:
    """Chat's url_citation annotations, in the Responses shape (flat, with an index)."""
    out: list[Json] = []
    for entry in grounding_annotations(candidate):
        cite = entry["url_citation"]
        out.append(
            {
                "type": "url_citation",
                "url": cite["url"],
                "title": cite["title"],
                "start_index": cite["start_index"],
                "end_index": cite["end_index"],
            }
        )
    return out


def _snapshot(item: Json) -> Json:
    """A copy deep enough that later deltas do not change an event already queued."""
    copy = dict(item)
    if "content" in copy:
        copy["content"] = [dict(c) for c in copy["content"]]
    if "summary" in copy:
        copy["summary"] = [dict(s) for s in copy["summary"]]
    return copy


__all__ = ["SIG", "OutputBuilder", "OutputContext", "args_fingerprint"]
