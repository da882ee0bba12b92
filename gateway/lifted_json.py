r"""`orjson.loads` for bodies that are mostly base64: images in data URLs, inline image data,
thought signatures.

orjson turns JSON strings into Python strings at about 1 GB/s (it checks and unescapes each
character), which made parsing the largest cost of an image request: ~7 ms of ~13 for 4 × 1 MiB
images. A long run of string text without escapes has nothing to unescape, so here it is cut
out of the body first, the short rest is parsed, and the run is put back as a `str` made
straight from its bytes (ASCII decoding runs at memory speed).

Runs are found between consecutive `"` and `\` bytes (memchr-fast), with no JSON tokenizing.
That is safe because a cut run is replaced by a marker that starts with a backslash: inside a
string it is an escape (and the run is put back in its place); outside a string it makes the
text invalid JSON, and then the body as sent is parsed instead. So the result always equals
`orjson.loads(raw)`, errors included. One leniency: a raw control character inside a cut run
is accepted, as `json.loads(strict=False)` would (it is forwarded as an escape, `\u0001`).
Refusing it would mean looking at every byte again: the fastest check measured (translate +
find) costs 0.7 ms per MB, more than cutting saves.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

import orjson

MIN_RUN: Final = 32 * 1024  # shorter strings parse fast enough; cutting them costs more
MAX_STEPS: Final = 8192  # bounds the scan of a body with very many strings
# Putting runs back walks every value in Python (~6× slower per value than orjson): worth it
# only when runs are nearly the whole body, so a body of many small values is never slower.
MIN_SHARE: Final = 0.875


# What `loads` can report about the strings it cut: id(text) -> (text, its bytes in `raw`).
Spans = dict[int, tuple[str, memoryview]]


def loads(raw: bytes | bytearray, spans: Spans | None = None) -> Any:
    """Like `orjson.loads(raw)`, and raises the same errors (with positions in `raw`).

    `spans`, when given, is filled with every cut string and its bytes in `raw` (a value that
    is exactly one cut string is that very object): a writer may send those bytes instead of
    encoding the text again (serving/splice.py)."""
    if len(raw) < MIN_RUN:
        return orjson.loads(raw)
    runs = long_runs(raw)
    if sum(stop - start for start, stop in runs) < len(raw) * MIN_SHARE:
        return orjson.loads(raw)
    view = memoryview(raw)
    nonce = secrets.token_hex(8)
    pieces: list[bytes | memoryview] = []
    lifted: list[str] = []
    cut: list[tuple[int, int]] = []
    pos = 0
    for start, stop in runs:
        try:
            text = str(view[start:stop], "ascii")
        except UnicodeDecodeError:
            continue
        pieces += (view[pos:start], b"\\u0000%s#%d\\u0000" % (nonce.encode(), len(lifted)))
        lifted.append(text)
        cut.append((start, stop))
        pos = stop
    if not lifted:
        return orjson.loads(raw)
    pieces.append(view[pos:])
    try:
        data = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return orjson.loads(raw)  # the same verdict, with positions in the text as sent
    whole = {f"\x00{nonce}#{i}\x00": text for i, text in enumerate(lifted)}
    try:
        data = _restore(data, nonce, whole, lifted)
    except RecursionError:  # nesting deeper than Python's stack; orjson allows 1024 levels
        return orjson.loads(raw)
    if spans is not None:
        spans.update(
            (id(text), (text, view[start:stop]))
            for text, (start, stop) in zip(lifted, cut, strict=True)
        )
    return data


def long_runs(raw: bytes | bytearray) -> list[tuple[int, int]]:
    """Stretches of at least MIN_RUN bytes with no `"` and no backslash, each starting just
    after a `"` or after a complete escape sequence."""
    runs: list[tuple[int, int]] = []
    steps = 0
    quote = raw.find(b'"')
    while quote >= 0 and steps < MAX_STEPS:
        following = raw.find(b'"', quote + 1)
        if following < 0:
            break
        start = quote + 1
        while following - start >= MIN_RUN and steps < MAX_STEPS:
            steps += 1
            slash = raw.find(b"\\", start, following)
            stop = following if slash < 0 else slash
            if stop - start >= MIN_RUN:
                runs.append((start, stop))
            if slash < 0:
                break
            start = slash + (6 if raw[slash + 1 : slash + 2] == b"u" else 2)
        quote = following
        steps += 1
    return runs


def _restore(node: Any, nonce: str, whole: dict[str, str], lifted: list[str]) -> Any:
    """Puts the runs back in place, in containers as they are (a key may hold one too)."""
    if isinstance(node, str):
        return _filled(node, nonce, whole, lifted) if "\x00" in node else node
    if isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str | dict | list):
                node[i] = _restore(value, nonce, whole, lifted)
        return node
    if isinstance(node, dict):
        if any("\x00" in key for key in node):
            return {
                _restore(k, nonce, whole, lifted): _restore(v, nonce, whole, lifted)
                for k, v in node.items()
            }
        for key, value in node.items():
            if isinstance(value, str | dict | list):
                node[key] = _restore(value, nonce, whole, lifted)
    return node


def _filled(value: str, nonce: str, whole: dict[str, str], lifted: list[str]) -> str:
    exact = whole.get(value)
    if exact is not None:
        return exact
    # Markers inside a longer string: split on this body's own opening (no regex: a pattern
    # per nonce was a compile per body), so text that merely looks like a marker stays as is.
    head, *rest = value.split(f"\x00{nonce}#")
    out = [head]
    for piece in rest:
        index, _, tail = piece.partition("\x00")
        out += (lifted[int(index)], tail)
    return "".join(out)
