"""Responses items → chat messages, so one translation (translate/request/) turns both APIs
into Gemini contents: roles, merging, tool-result order, image limits, signature fallbacks.

Consecutive model-side items (reasoning, assistant message, image_generation_call,
function_call) form one model turn; a `reasoning` item starts a new one (ours is always
output[0]). Each turn becomes one assistant message with its texts as `content`, its images in
`images[]` and its calls in `tool_calls` — the shape the chat path rebuilds turns from:

1. the reasoning item's envelope verifies (envelope.py) and every text, image and call still
   matches it → the chat carrier (`extra_content.google.parts`) with every signature: the
   exact turn;
2. otherwise signatures stay only on images and calls that still match (an edit wins), and
   the chat path tries the turn cache, then its documented fallback (counted), as for chat.

Items this gateway does not know (Codex `compaction`, hosted-tool calls) and envelopes it did
not sign are skipped with a note (logged and counted by serving), never refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.translate.data_urls import fingerprint, to_data_url
from gateway.translate.images.request import OUTPUT_FORMATS
from gateway.translate.responses.envelope import Opened, open_envelope
from gateway.translate.responses.output import args_fingerprint

Json = dict[str, Any]

MODEL_SIDE: Final = frozenset({"reasoning", "image_generation_call", "function_call"})
HOSTED_NAME: Final = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,5}$")
BASE64_MAGIC: Final = (("iVBOR", "image/png"), ("/9j/", "image/jpeg"), ("UklGR", "image/webp"))


@dataclass
class History:
    messages: list[Json] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # messages[i] came from this field
    notes: list[str] = field(default_factory=list)

    def add(self, message: Json, source: str) -> None:
        self.messages.append(message)
        self.sources.append(source)


@dataclass(frozen=True, slots=True)
class Keys:
    """What checking envelopes needs: the secret, and the backend turns must come from."""

    secret: bytes
    backend: str
    hosted_base: str | None = None
    # The chat carriers' tag for this backend ("" = AI Studio; translate/request/origin.py):
    # a turn rebuilt from a checked envelope carries it, so its signatures are kept.
    carrier_tag: str = ""


def sniff_mime(data: str) -> str:
    return next((mime for magic, mime in BASE64_MAGIC if data.startswith(magic)), "image/png")


def image_url_of(part: Json, hosted_base: str | None) -> str:
    url = part.get("image_url")
    if isinstance(url, str) and url:
        return url
    file_id = str(part.get("file_id") or "")
    if hosted_base and HOSTED_NAME.match(file_id):
        return f"{hosted_base}/v1/files/{file_id}"  # an image this gateway hosts
    return file_id if "/" in file_id else f"files/{file_id}"  # a Gemini Files API id


def _user_content(item: Json, hosted_base: str | None) -> list[Json]:
    parts: list[Json] = []
    for part in item["content"]:
        kind = part.get("type")
        if kind in {"input_text", "output_text"}:
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            url = image_url_of(part, hosted_base)
            parts.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "input_file":
            spec = {k: part[k] for k in ("file_data", "file_id", "filename") if part.get(k)}
            parts.append({"type": "file", "file": spec})
    return parts


def _plain_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        str(p.get("text") or p.get("refusal") or "")
        for p in content or []
        if isinstance(p, dict) and p.get("type") in {"input_text", "output_text", "refusal"}
    )


def _tool_message(item: Json, notes: list[str]) -> Json:
    output = item.get("output")
    if isinstance(output, list) and any(
        isinstance(p, dict) and p.get("type") != "input_text" for p in output
    ):
        notes.append("responses_ignored:function_output_media")
    return {"role": "tool", "tool_call_id": item["call_id"], "content": _plain_text(output)}


class _Turn:
    """One model turn's items → one chat assistant message."""

    def __init__(self, items: Sequence[Json], keys: Keys, notes: list[str]) -> None:
        self.texts = [
            _plain_text([part])
            for item in items
            if item["type"] == "message"
            for part in item["content"]
        ]
        self.images = [i for i in items if i["type"] == "image_generation_call" and i.get("result")]
        missing = sum(1 for i in items if i["type"] == "image_generation_call") - len(self.images)
        notes.extend(["responses_ignored:image_without_result"] * missing)
        self.calls = [i for i in items if i["type"] == "function_call"]
        self.layout: list[Json] = []
        self.tag = keys.carrier_tag
        for item in items:
            if item["type"] == "reasoning":
                opened = _open(item, keys, notes)
                if opened is not None:
                    self.layout = opened.layout

    def message(self) -> Json:
        by_image = {d["i"]: d for d in self.layout if "i" in d}
        by_call = {d["c"]: d for d in self.layout if "c" in d}
        images: list[Json] = []
        fingerprints: list[str] = []
        for item in self.images:
            data = str(item["result"])
            fingerprints.append(fingerprint(data))
            known = by_image.get(fingerprints[-1], {})
            fmt = OUTPUT_FORMATS.get(str(item.get("output_format")))
            mime = known.get("mt") or fmt or sniff_mime(data)
            entry: Json = {"type": "image_url", "image_url": {"url": to_data_url(mime, data)}}
            images.append(_signed(entry, known.get("s")))
        calls: list[Json] = []
        call_args: dict[str, tuple[int, str]] = {}
        for k, item in enumerate(self.calls):
            arguments = item.get("arguments") or "{}"
            fn = {"name": item["name"], "arguments": arguments}
            entry = {"id": item["call_id"], "type": "function", "function": fn}
            call_args[item["call_id"]] = (k, args_fingerprint(arguments))
            known = by_call.get(item["call_id"], {})
            same = known.get("a") == call_args[item["call_id"]][1]
            calls.append(_signed(entry, known.get("s") if same else None))
        message: Json = {"role": "assistant", "content": "".join(self.texts) or None}
        if images:
            message["images"] = images
        if calls:
            message["tool_calls"] = calls
        carrier = self._carrier(fingerprints, call_args) if self.layout else None
        google: Json = {} if carrier is None else {"parts": carrier}
        if self.layout and self.tag:
            google["backend"] = self.tag
        if google:
            message["extra_content"] = {"google": google}
        return message

    def _carrier(
        self, fingerprints: list[str], call_args: Mapping[str, tuple[int, str]]
    ) -> list[Json] | None:
        """The chat carrier for this turn, or None when anything differs from the envelope."""
        carrier: list[Json] = []
        texts = iter(self.texts)
        images = iter(enumerate(fingerprints))
        used: set[str] = set()
        for d in self.layout:
            if "t" in d:
                text = next(texts, None)
                if text is None or fingerprint(text) != d["t"]:
                    return None
                carrier.append(_described({"text": text}, d))
            elif "th" in d:
                carrier.append(_described({"thought": str(d["th"])}, d))
            elif "i" in d:
                index, found = next(images, (-1, None))
                if found != d["i"]:
                    return None
                carrier.append({"image": index})
            elif "c" in d:
                call = call_args.get(str(d["c"]))
                if call is None or call[1] != d.get("a"):
                    return None
                used.add(str(d["c"]))
                carrier.append(
                    {"tool_call": call[0], **({"native_id": True} if d.get("n") else {})}
                )
            elif "x" in d and isinstance(d["x"], dict):
                carrier.append({"part": d["x"]})
                if d.get("r"):
                    next(texts, None)
            elif "note" in d:
                next(texts, None)
                carrier.append({"note": str(d["note"])})
            else:
                return None
        leftover = next(texts, None) is not None or next(images, None) is not None
        return None if leftover or len(used) != len(call_args) else carrier


def _described(desc: Json, layout_entry: Json) -> Json:
    sig = layout_entry.get("s")
    return {**desc, "thought_signature": sig} if isinstance(sig, str) and sig else desc


def _signed(entry: Json, sig: Any) -> Json:
    if isinstance(sig, str) and sig:
        entry["extra_content"] = {"google": {"thought_signature": sig}}
    return entry


def _open(item: Json, keys: Keys, notes: list[str]) -> Opened | None:
    token = item.get("encrypted_content")
    if token is None:
        return None  # a reasoning item without content: nothing to check
    opened = open_envelope(token, keys.secret)
    if isinstance(opened, str):
        notes.append(f"responses_ignored:envelope_{opened}")
        return None
    if opened.backend != keys.backend:
        notes.append("responses_ignored:envelope_other_backend")
        return None
    return opened


class _Builder:
    """Walks the items once: model-side items gather into a turn, others close it."""

    def __init__(self, keys: Keys, references: Mapping[str, Json] | None) -> None:
        self.keys = keys
        self.history = History()
        self.known: dict[str, Json] = dict(references or {})
        self.turn: list[Json] = []
        self.turn_source = ""

    def close(self) -> None:
        if self.turn:
            message = _Turn(self.turn, self.keys, self.history.notes).message()
            self.history.add(message, self.turn_source)
            self.turn = []

    def resolve(self, item: Json) -> Json | None:
        if item.get("type") == "item_reference":
            found = self.known.get(str(item.get("id")))
            if found is None:
                self.history.notes.append("responses_ignored:unknown_reference")
            return found
        if isinstance(item.get("id"), str) and item.get("type") != "reasoning":
            item = _with_result(item, self.known)
            self.known[item["id"]] = item
        return item

    def add(self, item: Json, source: str) -> None:
        kind = item.get("type")
        if kind in MODEL_SIDE or (kind == "message" and item.get("role") == "assistant"):
            if kind == "reasoning" and any(i["type"] == "reasoning" for i in self.turn):
                self.close()
            if not self.turn:
                self.turn_source = source
            self.turn.append(item)
            return
        if kind not in {"function_call_output", "message"}:
            self.history.notes.append(f"responses_ignored:item_{str(kind)[:40]}")
            return
        self.close()
        if kind == "function_call_output":
            self.history.add(_tool_message(item, self.history.notes), source)
        elif item["role"] == "user":
            content = _user_content(item, self.keys.hosted_base)
            self.history.add({"role": "user", "content": content}, source)
        else:
            self.history.add(
                {"role": item["role"], "content": _plain_text(item["content"])}, source
            )


def to_chat_messages(
    items: Sequence[tuple[Json, str]],
    keys: Keys,
    instructions: str | None = None,
    references: Mapping[str, Json] | None = None,
) -> History:
    """`items`: (item, the field it came from). `references`: items the shell found by id
    (stored image results), for `item_reference` and id-only image_generation_call items."""
    builder = _Builder(keys, references)
    if instructions:
        builder.history.add({"role": "system", "content": instructions}, "instructions")
    for item, source in items:
        found = builder.resolve(item)
        if found is not None:
            builder.add(found, source)
    builder.close()
    return builder.history


def _with_result(item: Json, known: Mapping[str, Json]) -> Json:
    """An id-only image_generation_call gets the result of the same id seen earlier."""
    if item.get("type") != "image_generation_call" or item.get("result"):
        return item
    earlier = known.get(item["id"])
    if earlier is not None and earlier.get("result"):
        return {**item, "result": earlier["result"], "output_format": earlier.get("output_format")}
    return item
