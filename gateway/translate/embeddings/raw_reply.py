"""A Gemini embeddings reply read from its bytes, with each vector's JSON text kept.

Nearly all of an embeddings reply is its `"values": [...]` arrays: 100 vectors of 3,072 numbers
are ~4 MB. Parsing them is unavoidable (it is the only complete check that they are JSON
numbers, and base64 needs their values), but writing them out again as JSON is not: the text
Gemini sent is already the answer `encoding_format: float` gives. So each array is cut out of
the body, the small rest parsed as usual, and every array parsed on its own; `lift` returns the
reply as `orjson.loads` would have, plus each vector's text (by the id of its list) for the
writer to copy into the OpenAI body unchanged (response.py, via `orjson.Fragment`).

Safety: an array is cut from `"values"`, `:`, `[` up to the first `]` (numbers hold no
brackets). It is used only if it holds nothing but number characters, commas and whitespace
and orjson parses it (that checks the grammar: `1..2`, `01`, `1e999`, `[1,]` fail), and the
rest of the body parses with every cut array standing exactly where a JSON value was. Anything
else (a key in a string, a nested array, all-integer values that the float writer rewrites as
floats, more arrays than vectors) makes `lift` return None, and the caller parses the body the
ordinary way, which gives the same vectors or the same 502.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Final

import orjson

Texts = dict[int, bytes]  # id(vector list) -> its JSON array text as Gemini wrote it

_KEY: Final = b'"values"'
_AFTER_KEY: Final = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*\[")
NUMBER_BYTES: Final = b"0123456789+-.eE, \t\r\n"
_FLOAT_MARKS: Final = (b".", b"e", b"E")
SPARE_KEYS: Final = 16


def _arrays(raw: bytes, most: int) -> list[tuple[int, int]] | None:
    """[start, stop) of each `"values": [...]` array (brackets included); None past `most`
    arrays, or past `most + SPARE_KEYS` mentions of the key (a body made of `"values"` strings
    must not cost a Python step each)."""
    spans: list[tuple[int, int]] = []
    seen = 0
    at = raw.find(_KEY)
    while at >= 0:
        seen += 1
        if seen > most + SPARE_KEYS:
            return None
        after = _AFTER_KEY.match(raw, at + len(_KEY))
        if after is not None:
            if len(spans) == most:
                return None
            start = after.end() - 1
            stop = raw.find(b"]", start)
            if stop < 0:
                return None
            spans.append((start, stop + 1))
            at = stop
        at = raw.find(_KEY, at + 1)
    return spans


def _parsed(text: bytes, keep: bool) -> list[Any] | None:
    """The array's values; when its text is to be kept, only if it is a non-empty array of
    numbers with at least one written as a float (the float writer rewrites all-integer
    vectors). None: parse the body whole."""
    if keep and (
        text.translate(None, NUMBER_BYTES) != b"[]"
        or not any(mark in text for mark in _FLOAT_MARKS)
    ):
        return None
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return values if isinstance(values, list) else None


def lift(raw: bytes, most: int, keep: bool) -> tuple[Any, Texts] | None:
    """(`orjson.loads(raw)`, each vector's text when `keep`) when every array could be cut out
    (at most `most` of them); None when the body must be parsed as a whole instead. Without
    `keep` (base64 needs the values only) the arrays are merely parsed one by one, which is
    faster than parsing the body whole (measured: 12 ms against 17 for 100 × 3,072)."""
    spans = _arrays(raw, most)
    if not spans:
        return None
    nonce = secrets.token_hex(8)
    pieces: list[bytes] = []
    lists: dict[str, list[Any]] = {}
    texts: Texts = {}
    pos = 0
    for index, (start, stop) in enumerate(spans):
        text = raw[start:stop]
        values = _parsed(text, keep)
        if values is None:
            return None
        marker = f"\x00{nonce}#{index}"
        lists[marker] = values
        if keep:
            texts[id(values)] = text
        pieces += (raw[pos:start], b'"\\u0000%s#%d"' % (nonce.encode(), index))
        pos = stop
    pieces.append(raw[pos:])
    try:
        reply = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(reply, dict) or not _put_back(reply, lists):
        return None
    return reply, texts


def _put_back(reply: Any, lists: dict[str, list[Any]]) -> bool:
    """Replaces each marker with its parsed array, in place (no recursion: nesting is
    orjson's to bound). False unless every marker stood alone as a value exactly once."""
    unused = set(lists)
    stack = [reply]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(value)
            elif isinstance(value, str) and "\x00" in value:
                if value not in unused:
                    return False
                unused.discard(value)
                node[key] = lists[value]
            if isinstance(key, str) and "\x00" in key:
                return False
    return not unused
