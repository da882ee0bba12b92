"""Gemini's `usageMetadata` read from the tail of a native answer, for the token metrics.

Native answers are relayed as Gemini sent them, never parsed (serving/native.py says why: a
multi-MB image answer would be decoded only to be encoded again). Gemini writes `usageMetadata`
after `candidates`, near the end of each answer and of each stream event, so the last few KiB
hold it: this finds the object there and decodes that object alone.

Inside a JSON string every `"` is escaped, so an unescaped `"usageMetadata"` followed by `:` and
`{` is a key, not text a model wrote; the last one in the tail is the answer's own.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

TAIL_BYTES: Final = 8 * 1024
_KEY: Final = b'"usageMetadata"'
_SPACE: Final = b" \t\r\n"


def tail_of(chunks: list[bytes], size: int = TAIL_BYTES) -> bytes:
    """The last `size` bytes across an answer's chunks, joining only the few it needs."""
    taken: list[bytes] = []
    have = 0
    for chunk in reversed(chunks):
        taken.append(chunk)
        have += len(chunk)
        if have >= size:
            break
    return b"".join(reversed(taken))[-size:]


def usage_in_tail(tail: bytes) -> dict[str, Any] | None:
    """The `usageMetadata` object in `tail` (the end of an answer or one event), or None when
    there is none or it cannot be read: a metric is never worth an error."""
    at = tail.rfind(_KEY)
    while at >= 0:
        found = _object_after(tail, at + len(_KEY))
        if found is not None:
            return found
        at = tail.rfind(_KEY, 0, at)
    return None


def _object_after(data: bytes, at: int) -> dict[str, Any] | None:
    at = _skip_space(data, at)
    if data[at : at + 1] != b":":
        return None
    start = _skip_space(data, at + 1)
    end = _closing_brace(data, start)
    if end is None:
        return None
    try:
        value = orjson.loads(data[start : end + 1])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _skip_space(data: bytes, at: int) -> int:
    while at < len(data) and data[at] in _SPACE:
        at += 1
    return at


def _closing_brace(data: bytes, start: int) -> int | None:
    """Where the object opening at `start` closes (strings skipped), or None."""
    if data[start : start + 1] != b"{":
        return None
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(data)):
        byte = data[i]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B:  # {
            depth += 1
        elif byte == 0x7D:  # }
            depth -= 1
            if depth == 0:
                return i
    return None
