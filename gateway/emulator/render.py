"""Turn a `Reply` into Gemini's wire shapes: one unary body, or the chunks of a stream cut the way
the live API cuts them (samples 01, 02, 07, 08), with running `usageMetadata` in every chunk."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Final

import orjson

from gateway.emulator.models import ModelInfo
from gateway.emulator.scenarios import CandidateReply, Reply
from gateway.emulator.tokens import part_tokens

_PIECE: Final = re.compile(r"\S+\s*|\s+")
MAX_PIECES: Final = 4

Chunk = dict[str, Any]
Step = (
    list[dict[str, Any]] | None
)  # None: a chunk whose content has a role but no parts (sample 02)


def split_text(text: str, pieces: int = MAX_PIECES) -> list[str]:
    """A few word-aligned pieces; text without spaces is cut by code point, never inside one."""
    words = _PIECE.findall(text)
    if len(words) < 3 and len(text) >= 3:
        words = list(text)
    if not words:
        return [text]
    count = min(pieces, len(words))
    bounds = [round(i * len(words) / count) for i in range(count + 1)]
    return ["".join(words[bounds[i] : bounds[i + 1]]) for i in range(count)]


class Tally:
    """Output tokens of one candidate: ceil(total text chars / 4) + image tokens + structured parts,
    so the running count of a stream ends exactly at the unary count."""

    def __init__(self, image_tokens: int) -> None:
        self.chars = 0
        self.other = 0
        self.images = 0
        self._image_tokens = image_tokens

    def add(self, parts: Sequence[dict[str, Any]]) -> None:
        for part in parts:
            if part.get("thought"):
                continue
            if isinstance(part.get("text"), str):
                self.chars += len(part["text"])
            elif "inlineData" in part:
                self.images += 1
            else:
                self.other += part_tokens(part)[1]

    @property
    def tokens(self) -> int:
        return math.ceil(self.chars / 4) + self.other + self.images * self._image_tokens


def _usage(
    reply: Reply, prompt: tuple[int, list[dict[str, Any]]], tallies: Sequence[Tally]
) -> Chunk:
    prompt_count, details = prompt
    output = sum(t.tokens for t in tallies)
    thoughts = reply.thoughts_tokens if reply.candidates else None
    usage: Chunk = {"promptTokenCount": prompt_count}
    if output:
        usage["candidatesTokenCount"] = output
    usage["totalTokenCount"] = prompt_count + output + (thoughts or 0)
    usage["promptTokensDetails"] = details
    images = sum(t.images for t in tallies) * reply.image_tokens
    if images:
        usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": images}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["serviceTier"] = "standard"
    return usage


def _candidate_json(
    candidate: CandidateReply, index: int, parts: Step, *, last: bool
) -> dict[str, Any]:
    if candidate.style == "empty":
        content: dict[str, Any] = {}
    elif parts is None:
        content = {"role": "model"}
    else:
        content = {"parts": parts, "role": "model"}
    out: dict[str, Any] = {"content": content}
    if last and candidate.finish_reason:
        out["finishReason"] = candidate.finish_reason
    out["index"] = index
    if last:
        if candidate.finish_message:
            out["finishMessage"] = candidate.finish_message
        out.update(candidate.extras)
    return out


def _envelope(
    reply: Reply, candidates: list[dict[str, Any]], usage: Chunk, model: str, rid: str
) -> Chunk:
    body: Chunk = {}
    if reply.block_reason:
        body["promptFeedback"] = {"blockReason": reply.block_reason}
    else:
        body["candidates"] = candidates
    body["usageMetadata"] = usage
    body["modelVersion"] = model
    body["responseId"] = rid
    return body


def unary_body(
    reply: Reply, prompt: tuple[int, list[dict[str, Any]]], model: str, rid: str
) -> Chunk:
    tallies = []
    for candidate in reply.candidates:
        tally = Tally(reply.image_tokens)
        tally.add(candidate.parts)
        tallies.append(tally)
    candidates = [_candidate_json(c, i, c.parts, last=True) for i, c in enumerate(reply.candidates)]
    return _envelope(reply, candidates, _usage(reply, prompt, tallies), model, rid)


def _steps(candidate: CandidateReply, model: ModelInfo) -> list[Step]:
    """The chunks one candidate is cut into; the finish reason rides on the last one."""
    if candidate.style == "empty":
        return [[]]
    steps: list[Step] = []
    trailing: str | None = None
    for part in candidate.parts:
        previous = steps[-1] if steps else None
        if "functionCall" in part and previous and "functionCall" in previous[-1]:
            previous.append(part)  # parallel calls travel in one chunk (sample 07)
        elif isinstance(part.get("text"), str):
            pieces, signature = _text_pieces(part, on_first=candidate.style == "image")
            trailing = signature or trailing
            steps.extend([piece] for piece in pieces)
        else:
            if "inlineData" in part and not model.is_gemini3 and not part.get("thought"):
                steps.append(None)
            steps.append([part])
    if trailing is not None:
        steps.append([{"text": "", "thoughtSignature": trailing}])
    elif candidate.style == "calls" or (candidate.style == "image" and model.is_gemini3):
        steps.append([{"text": ""}])
    return steps or [[]]


def _text_pieces(
    part: dict[str, Any], *, on_first: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """Streamed pieces of one text part, and the signature left for a trailing empty part.

    Image models sign the first piece; text models send the signature last, on an empty part
    (sample 08). Either way it is the MAC of the whole text, so merging the pieces verifies."""
    signature = part.get("thoughtSignature")
    pieces: list[dict[str, Any]] = [{"text": piece} for piece in split_text(part["text"])]
    if part.get("thought"):
        for piece in pieces:
            piece["thought"] = True
    if signature and on_first:
        pieces[0]["thoughtSignature"] = signature
        return pieces, None
    return pieces, signature


def stream_chunks(
    reply: Reply, prompt: tuple[int, list[dict[str, Any]]], model: ModelInfo, rid: str
) -> list[Chunk]:
    """Candidates advance side by side: chunk k holds step k of every candidate that has one."""
    plans = [_steps(c, model) for c in reply.candidates]
    tallies = [Tally(reply.image_tokens) for _ in reply.candidates]
    chunks: list[Chunk] = []
    for k in range(max((len(p) for p in plans), default=1)):
        candidates = []
        for i, (candidate, plan) in enumerate(zip(reply.candidates, plans, strict=True)):
            if k < len(plan):
                tallies[i].add(plan[k] or [])
                candidates.append(_candidate_json(candidate, i, plan[k], last=k == len(plan) - 1))
        chunks.append(_envelope(reply, candidates, _usage(reply, prompt, tallies), model.id, rid))
    return chunks


def issued_turns(reply: Reply) -> list[dict[str, Any]]:
    """The canonical model turns (one per candidate with parts): what a faithful client replays."""
    return [
        {"role": "model", "parts": orjson.loads(orjson.dumps(c.parts))}
        for c in reply.candidates
        if c.parts
    ]


def strip_finish(chunk: Chunk) -> Chunk:
    """A copy of `chunk` with no finishReason/finishMessage (for the no_finish and cut faults)."""
    copy: Chunk = orjson.loads(orjson.dumps(chunk))
    for candidate in copy.get("candidates", []):
        candidate.pop("finishReason", None)
        candidate.pop("finishMessage", None)
    return copy
