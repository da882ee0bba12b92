"""Keys of the server-side turn cache, computed from what clients keep (client-roundtrip.md §1).

A model turn is remembered under: the conversation prefix + the visible text (`t:`), the
visible text alone (`v:`, survives clients that trim history), each tool-call id (`c:`, the
one field every client echoes) and each image's fingerprint (`i:`). The same function computes
the keys when a turn is stored and when a client sends it back, so they meet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.translate.data_urls import (
    IMAGE_SEPARATOR,
    fingerprint,
    fingerprint_pieces,
    markdown_image_pieces,
)

Json = dict[str, Any]


def _image_url(part: Json) -> str:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return url if isinstance(url, str) else ""


def visible_text(content: Any) -> str:
    """The text a client shows for `content` (a list is rendered the way the gateway renders)."""
    return "".join(visible_pieces(content))


def visible_pieces(content: Any) -> list[str]:
    """`visible_text` as the pieces it is made of; image URLs are referenced, not copied."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    out: list[str] = []
    last = ""
    images = 0
    for part in content:
        if isinstance(part, str):
            part = {"type": "text", "text": part}
        if not isinstance(part, dict):
            continue
        if part.get("type") == "non_standard" and isinstance(part.get("value"), dict):
            part = part["value"]
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str) and part["text"]:
            if last == "image":
                out.append(IMAGE_SEPARATOR)
            out.append(part["text"])
            last = "text"
        elif kind == "image_url" and _image_url(part):
            if last:
                out.append(IMAGE_SEPARATOR)
            out.extend(markdown_image_pieces(_image_url(part), images))
            images += 1
            last = "image"
    return out


def message_digest(message: Json) -> str:
    h = hashlib.sha256()
    h.update(str(message.get("role")).encode())
    h.update(b"\0" + fingerprint_pieces(visible_pieces(message.get("content"))).encode())
    for call in message.get("tool_calls") or []:
        if isinstance(call, dict):
            fn = call.get("function") or {}
            h.update(f"\0{call.get('id')}\0{fn.get('name')}\0{fn.get('arguments')}".encode())
    if message.get("tool_call_id"):
        h.update(f"\0{message['tool_call_id']}".encode())
    return h.hexdigest()


def prefix_digests(messages: Sequence[Json]) -> list[str]:
    """digests[i] covers messages[:i]; digests[len] covers them all."""
    out = [""]
    for message in messages:
        out.append(hashlib.sha256((out[-1] + message_digest(message)).encode()).hexdigest())
    return out


def turn_keys(
    prefix: str,
    visible: str,
    call_ids: Iterable[str],
    image_data: Iterable[str] = (),
    image_fingerprints: Iterable[str] = (),
) -> list[str]:
    """`image_fingerprints`: images known by fingerprint only (hosted links carry it)."""
    vis = fingerprint(visible)
    keys = [f"t:{hashlib.sha256((prefix + vis).encode()).hexdigest()[:40]}"]
    if visible:
        keys.append(f"v:{vis}")
    keys.extend(f"c:{call_id}" for call_id in call_ids)
    keys.extend(f"i:{fingerprint(data)}" for data in image_data)
    keys.extend(f"i:{fp}" for fp in image_fingerprints)
    return keys
