"""A native request body parsed without copying its payloads: long string runs (base64 images,
signatures) are cut out before parsing and stand in the parsed body as short markers ("holes").

The native routes relay what the client sent. To know whether a body needs a repair, or refers
to a hosted image, the gateway must read its structure, not its megabytes: parsing a 5 MB image
body with orjson would make a 5 MB Python string only to throw it away. Here the runs are found
as `lifted_json` finds them (memchr-fast, no tokenizing), replaced by `\\u0000<nonce>#<i>\\u0000`
escapes, and only the short rest is parsed. The same safety argument holds: a run that was not
inside a string makes the cut text invalid JSON, and the body as sent is parsed instead.

`encode` writes a (repaired) skeleton back: each hole goes out as the very bytes of the request
(pieces), so a repair costs the skeleton's bytes, not the payloads'.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from gateway.lifted_json import MIN_RUN, long_runs

Json = dict[str, Any]
HOLE_LEAD: Final = "\x00"


@dataclass(slots=True)
class Skeleton:
    """`data` is the parsed body with holes; `holes[i]` are hole i's bytes in the request."""

    data: Any
    nonce: str = ""
    holes: list[memoryview] = field(default_factory=list)

    def marker(self, index: int) -> str:
        return f"{HOLE_LEAD}{self.nonce}#{index}{HOLE_LEAD}"

    def has_holes(self, text: str) -> bool:
        return bool(self.holes) and f"{HOLE_LEAD}{self.nonce}#" in text

    def text(self, value: str) -> str:
        """A string of the body with its holes filled (a copy: only for short-lived reads)."""
        if not self.has_holes(value):
            return value
        head, *rest = value.split(f"{HOLE_LEAD}{self.nonce}#")
        out = [head]
        for piece in rest:
            index, _, tail = piece.partition(HOLE_LEAD)
            out += (str(self.holes[int(index)], "ascii"), tail)
        return "".join(out)


def parse(raw: bytes) -> Skeleton:
    """Like `orjson.loads(raw)` (same errors), with long runs left in `raw` as holes."""
    if len(raw) < MIN_RUN:
        return Skeleton(orjson.loads(raw))
    runs = long_runs(raw)
    if not runs:
        return Skeleton(orjson.loads(raw))
    ascii_body = raw.isascii()
    view = memoryview(raw)
    nonce = secrets.token_hex(8)
    pieces: list[bytes | memoryview] = []
    holes: list[memoryview] = []
    pos = 0
    for start, stop in runs:
        run = view[start:stop]
        if not ascii_body and not _ascii(run):
            continue  # left to orjson, which checks its UTF-8
        pieces += (view[pos:start], b"\\u0000%s#%d\\u0000" % (nonce.encode(), len(holes)))
        holes.append(run)
        pos = stop
    if not holes:
        return Skeleton(orjson.loads(raw))
    pieces.append(view[pos:])
    try:
        data = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return Skeleton(orjson.loads(raw))  # the verdict and positions of the body as sent
    return Skeleton(data, nonce, holes)


def _ascii(run: memoryview) -> bool:
    try:
        str(run, "ascii")  # a transient copy, only for bodies that are not all ASCII
    except UnicodeDecodeError:
        return False
    return True


def keys_have_holes(skeleton: Skeleton) -> bool:
    """A hole in an object key (a key of 32 KiB or more): such bodies are filled in instead."""
    if not skeleton.holes:
        return False
    stack: list[Any] = [skeleton.data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(HOLE_LEAD in key for key in node):
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


def filled(skeleton: Skeleton) -> Any:
    """The body with every hole filled: what `orjson.loads(raw)` gave (copies the payloads;
    only for the opt-in steps that read them, like the history budget)."""
    if not skeleton.holes:
        return skeleton.data

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            return skeleton.text(node)
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, dict):
            return {fill(k): fill(v) for k, v in node.items()}
        return node

    return fill(skeleton.data)


Encoded = bytes | tuple[bytes | memoryview, ...]


def encode(skeleton: Skeleton) -> Encoded:
    """The skeleton as JSON bytes, or as pieces (in order) where holes go out as the request's
    own bytes; serving/ sends pieces one after another, never joined."""
    frame = orjson.dumps(skeleton.data)
    if not skeleton.holes:
        return frame
    found: list[tuple[int, int, memoryview]] = []
    for index, hole in enumerate(skeleton.holes):
        tag = b"\\u0000%s#%d\\u0000" % (skeleton.nonce.encode(), index)
        at = frame.find(tag)
        if at < 0:
            continue  # the hole was dropped with its part
        if frame.find(tag, at + len(tag)) >= 0:
            return orjson.dumps(filled(skeleton))  # a hole copied by a repair: write it out
        found.append((at, len(tag), hole))
    if not found:
        return frame
    view = memoryview(frame)
    parts: list[bytes | memoryview] = []
    pos = 0
    for at, size, hole in sorted(found, key=lambda item: item[0]):
        parts += (view[pos:at], hole)
        pos = at + size
    parts.append(view[pos:])
    return tuple(parts)
