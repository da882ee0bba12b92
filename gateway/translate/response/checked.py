"""Gemini's answer checked where it enters translation, once, for every surface (chat unary and
streamed, Responses, Images): what the rest of translate/ reads from a candidate has the types
it expects, or the answer is refused as Gemini's fault (502 `upstream_error`, in streams an
error event), never a 500 and never a data URL or markdown built from garbage (issue 13).

What is checked is what gets read: candidates are objects; a part's `text` is a string,
`thought` a boolean, `thoughtSignature` a string; inline data is an object whose `mimeType` is an
ASCII media type (an image's exactly `image/<subtype>`, as it becomes a data URL and a file
name) and whose `data` is an ASCII string with nothing that would end a URL or a markdown link;
a function call has a string name and object arguments. Anything else a part holds passes as
Gemini sent it. Image data is not decoded here (megabytes per answer): the scan for characters
that cannot be base64 costs ~1 ms per 5 MB image.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gateway.errors import UpstreamError

Json = dict[str, Any]

_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE: Final = re.compile(rf"{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=[A-Za-z0-9!#$&^_.+-]+)*")
IMAGE_TYPE: Final = re.compile(r"image/[A-Za-z0-9][A-Za-z0-9.+-]{0,126}")
# Base64 never holds these; any one of them would end a data URL or the markdown around it.
URL_ENDERS: Final = tuple("()<>[]\"'\\` \t\r\n")


def malformed(where: str, problem: str) -> UpstreamError:
    return UpstreamError(f"Gemini's answer is malformed: {where} {problem}")


def _kind(value: Any) -> str:
    return type(value).__name__


def _check_blob(blob: Any, where: str) -> None:
    if not isinstance(blob, dict):
        raise malformed(where, f"must be an object, got {_kind(blob)}")
    mime = blob.get("mimeType", blob.get("mime_type"))
    if not isinstance(mime, str) or not mime.isascii() or not MEDIA_TYPE.fullmatch(mime):
        raise malformed(f"{where}.mimeType", "is not a media type")
    if mime.lower().startswith("image/") and not IMAGE_TYPE.fullmatch(mime):
        raise malformed(f"{where}.mimeType", "is not an image type of the form image/<subtype>")
    data = blob.get("data", "")
    if not isinstance(data, str):
        raise malformed(f"{where}.data", f"must be a base64 string, got {_kind(data)}")
    if not data.isascii() or any(ch in data for ch in URL_ENDERS):
        raise malformed(f"{where}.data", "is not base64")


def _check_call(call: Any, where: str) -> None:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise malformed(where, "needs a string name")
    args = call.get("args")
    if args is not None and not isinstance(args, dict):
        raise malformed(f"{where}.args", f"must be an object, got {_kind(args)}")
    if "id" in call and not isinstance(call["id"], str):
        raise malformed(f"{where}.id", "must be a string")


def check_part(part: Json, where: str) -> Json:
    if "text" in part and not isinstance(part["text"], str):
        raise malformed(f"{where}.text", f"must be a string, got {_kind(part['text'])}")
    if "thought" in part and not isinstance(part["thought"], bool):
        raise malformed(f"{where}.thought", "must be a boolean")
    signature = part.get("thoughtSignature", part.get("thought_signature"))
    if signature is not None and not isinstance(signature, str):
        raise malformed(f"{where}.thoughtSignature", "must be a string")
    for name in ("inlineData", "inline_data"):
        if name in part:
            _check_blob(part[name], f"{where}.{name}")
    for name in ("functionCall", "function_call"):
        if name in part:
            _check_call(part[name], f"{where}.{name}")
    return part


def checked_parts(candidate: Json) -> list[Json]:
    """The candidate's parts, each checked. No content (NO_IMAGE, blocked candidates arrive
    with `content: {}` or none) is no parts; parts that are not objects are skipped."""
    content = candidate.get("content")
    if not isinstance(content, dict):
        return []
    parts = content.get("parts")
    if not isinstance(parts, list):
        return []
    return [check_part(p, f"parts[{j}]") for j, p in enumerate(parts) if isinstance(p, dict)]


def candidates_of(response: Json) -> list[Json]:
    """`candidates`, which must be a list of objects (absent or null: none)."""
    candidates = response.get("candidates")
    if candidates is None:
        return []
    if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
        raise malformed("candidates", "must be a list of objects")
    return candidates


def candidate_index(candidate: Json, position: int) -> int:
    """`index`, a non-negative integer (absent or null: its position in the list)."""
    index = candidate.get("index")
    if index is None:
        return position
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise malformed(f"candidates[{position}].index", "must be a non-negative integer")
    return index


def prompt_feedback(response: Json) -> Json:
    feedback = response.get("promptFeedback")
    if feedback is None:
        return {}
    if not isinstance(feedback, dict):
        raise malformed("promptFeedback", "must be an object")
    return feedback
