"""Data URLs and markdown images, handled as text: base64 payloads are sliced, never decoded.

Multi-MB payloads pass through here on every turn, so nothing in this module walks a payload
more than once, and fingerprints sample long strings instead of hashing them whole.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar, overload

from gateway.protocol.stand_in import Payload

_B64_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
_MIME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
# `![alt](url)` where url is a data URL or an http(s) URL; alt has no brackets.
MARKDOWN_IMAGE_RE: Final = re.compile(r"!\[[^\[\]\n]{0,200}\]\((data:[^)\s]+|https?://[^)\s]+)\)")
IMAGE_SEPARATOR: Final = "\n\n"
SAMPLE: Final = 16 * 1024
HEADER_LIMIT: Final = 512  # the comma of a data URL comes within this many characters


P = TypeVar("P", str, Payload)


@dataclass(frozen=True, slots=True)
class DataUrl(Generic[P]):
    mime_type: str
    data: P  # base64 text exactly as the client sent it, or what stands for it


@overload
def parse_data_url(url: str) -> DataUrl[str] | None: ...
@overload
def parse_data_url(url: str, payload: Payload | None) -> DataUrl[Payload] | None: ...
def parse_data_url(
    url: str, payload: Payload | None = None
) -> DataUrl[str] | DataUrl[Payload] | None:
    """`data:<mime>[;params];base64,<payload>` → DataUrl; anything else → None.

    `payload`, when known (Resolved.payload_of), stands for the part of `url` after the comma:
    that text already cut out, or a stand-in the shell writes out as that text
    (protocol/stand_in.py). Either saves a new slice, a copy of megabytes."""
    if not url.startswith("data:"):
        return None
    comma = url.find(",", 5, HEADER_LIMIT)
    if comma < 0:
        return None
    header = url[5:comma].lower()
    pieces = header.split(";")
    if pieces[-1] != "base64":
        return None
    mime = pieces[0]
    if not _MIME_RE.match(mime):
        return None
    start = comma + 1
    if start >= len(url) or not _looks_like_base64(url, start):
        return None
    if payload is None:
        return DataUrl(mime, url[start:])
    return DataUrl(mime, payload)


def _looks_like_base64(url: str, start: int) -> bool:
    """Checks the ends of the payload only: a full scan would touch every byte of every image."""
    head = url[start : start + 64]
    tail = url[max(start, len(url) - 64) :]
    return set(head) <= _B64_CHARS and set(tail) <= _B64_CHARS


def to_data_url(mime_type: str, data: str) -> str:
    return f"data:{mime_type};base64,{data}"


def fingerprint(text: str) -> str:
    """A stable short digest; long strings are sampled (length, head, middle, tail)."""
    return fingerprint_pieces((text,))


def fingerprint_pieces(pieces: Sequence[str]) -> str:
    """`fingerprint("".join(pieces))` without building the joined string: a message with
    images is megabytes long, and only its length and three samples are hashed."""
    h = hashlib.sha256()
    n = sum(len(piece) for piece in pieces)
    h.update(str(n).encode())
    if n <= 4 * SAMPLE:
        h.update("".join(pieces).encode("utf-8", "surrogatepass"))
    else:
        mid = n // 2
        for start, stop in ((0, SAMPLE), (mid, mid + SAMPLE), (n - SAMPLE, n)):
            h.update(_text_slice(pieces, start, stop).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def _text_slice(pieces: Sequence[str], start: int, stop: int) -> str:
    """`"".join(pieces)[start:stop]`, copying only the characters in the slice."""
    out: list[str] = []
    offset = 0
    for piece in pieces:
        end = offset + len(piece)
        if end > start and offset < stop:
            out.append(piece[max(start - offset, 0) : stop - offset])
        if end >= stop:
            break
        offset = end
    return "".join(out)


def markdown_image_pieces(url: str, index: int) -> tuple[str, str, str]:
    """The pieces of `markdown_image`, for callers that must not copy a multi-MB URL."""
    return f"![image {index + 1}](", url, ")"


def markdown_image(url: str, index: int) -> str:
    return "".join(markdown_image_pieces(url, index))


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of visible assistant content: text, or an image URL (data: or http)."""

    kind: str  # "text" | "image"
    value: str


def split_markdown_images(content: str, hosted_base: str | None = None) -> list[Segment]:
    """Text with markdown images → segments, undoing the separators the gateway adds around
    images. Only data: URLs and the gateway's own hosted URLs count as images: a link the model
    wrote in its prose stays text (and is never fetched)."""
    if "![" not in content:
        return [Segment("text", content)] if content else []
    segments: list[Segment] = []
    pos = 0
    hosted = f"{hosted_base}/v1/files/" if hosted_base else None
    for match in MARKDOWN_IMAGE_RE.finditer(content):
        url = match.group(1)
        if not (url.startswith("data:") or (hosted and url.startswith(hosted))):
            continue
        text = content[pos : match.start()]
        if segments and segments[-1].kind == "image":
            text = text.removeprefix(IMAGE_SEPARATOR)
        text = text.removesuffix(IMAGE_SEPARATOR)
        if text:
            segments.append(Segment("text", text))
        segments.append(Segment("image", match.group(1)))
        pos = match.end()
    tail = content[pos:]
    if segments and segments[-1].kind == "image":
        tail = tail.removeprefix(IMAGE_SEPARATOR)
    if tail:
        segments.append(Segment("text", tail))
    return segments
