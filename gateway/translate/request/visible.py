"""What an assistant message still shows, as Gemini parts in order: its text, the images in its
markdown, its `image_url` content parts and `images[]`; the rebuild in model_turn.py starts
from these. Also the identity of a part, which says when two parts are the same.

Each image goes up once (issue 13): clients hand-merge messages and bring the same image back
twice, in the markdown mirror and again as an `image_url` part, or in `images[]` and a content
part. Gemini returned it once. The copy kept is the one in the markdown mirror when there is one
(the mirror is where Gemini put it), else the first; a signature a dropped copy carried moves to
the kept one.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from gateway.translate.data_urls import fingerprint, split_markdown_images
from gateway.translate.request.parts import image_url_part
from gateway.translate.request.resolved import Resolved
from gateway.translate.signatures import LooseSignatures

Json = dict[str, Any]
MIRRORED: Final = "_mirrored"  # marks an image_url item found in markdown


def image_item_url(item: Any) -> str | None:
    image = item.get("image_url") if isinstance(item, dict) else None
    url = image.get("url") if isinstance(image, dict) else None
    return url if isinstance(url, str) else None


def part_identity(part: Json) -> str | None:
    """Equal for parts with the same visible content (text, image bytes, call and arguments)."""
    if "text" in part and not part.get("thought"):
        return "t:" + fingerprint(part["text"])
    blob = part.get("inlineData")
    if isinstance(blob, dict):
        return "i:" + fingerprint(str(blob.get("data", "")))
    call = part.get("functionCall")
    if isinstance(call, dict):
        args = orjson.dumps(call.get("args") or {}, option=orjson.OPT_SORT_KEYS).decode()
        return f"f:{call.get('name')}:{args}"
    return None


def _image_key(part: Json) -> str | None:
    if "inlineData" in part:
        return part_identity(part)
    data = part.get("fileData")
    uri = data.get("fileUri") if isinstance(data, dict) else None
    return f"u:{uri}" if isinstance(uri, str) else None


def _markdown_items(text: str, hosted_base: str | None) -> list[Json]:
    return [
        {"type": "text", "text": s.value}
        if s.kind == "text"
        else {"type": "image_url", "image_url": {"url": s.value}, MIRRORED: True}
        for s in split_markdown_images(text, hosted_base)
    ]


def visible_items(content: Any, param: str, hosted_base: str | None) -> list[tuple[str, Json]]:
    """(param, text or image_url item) for what `content` shows, in order: wrappers unwrapped
    and markdown images split out of every text, including text blocks (LangChain's
    output_version="v1" turns our string content into a list of text blocks)."""
    raw = [content] if isinstance(content, str) else content
    out: list[tuple[str, Json]] = []
    for j, item in enumerate(raw if isinstance(raw, list) else []):
        where = f"{param}.content" if isinstance(content, str) else f"{param}.content[{j}]"
        if isinstance(item, str):
            item = {"type": "text", "text": item}
        if isinstance(item, dict) and item.get("type") == "non_standard":
            item = item.get("value")
        if not isinstance(item, dict):
            continue
        if item.get("type") == "text" and isinstance(item.get("text"), str):
            out.extend((where, piece) for piece in _markdown_items(item["text"], hosted_base))
        elif item.get("type") == "image_url":
            out.append((where, item))
    return out


def visible_parts(
    message: Json, param: str, resolved: Resolved, loose: LooseSignatures
) -> list[tuple[Json, str | None]]:
    """(part, loose signature) for each text and image the client still shows, in order, each
    image once."""
    shown: list[tuple[Json, str | None, bool]] = []  # part, loose signature, in the mirror
    for where, item in visible_items(message.get("content"), param, resolved.hosted_base):
        if item.get("type") == "text" and item.get("text"):
            shown.append(({"text": item["text"]}, None, False))
        elif item.get("type") == "image_url":
            url = image_item_url(item) or ""
            part = image_url_part(url, f"{where}.image_url.url", resolved)
            shown.append((part, loose.by_image_url.get(url), bool(item.get(MIRRORED))))
    for k, item in enumerate(message.get("images") or []):
        image = image_item_url(item)
        if image is None or (isinstance(item, dict) and item.get("thought")):
            continue
        part = image_url_part(image, f"{param}.images[{k}].image_url.url", resolved)
        shown.append((part, loose.by_image_url.get(image), False))
    return _each_image_once(shown)


def _each_image_once(shown: list[tuple[Json, str | None, bool]]) -> list[tuple[Json, str | None]]:
    kept: dict[str, int] = {}  # image key -> position of the copy kept
    signatures: dict[str, str] = {}  # image key -> the first loose signature of any copy
    for i, (part, sig, mirrored) in enumerate(shown):
        key = None if "text" in part else _image_key(part)
        if key is None:
            continue
        if key not in kept or (mirrored and not shown[kept[key]][2]):
            kept[key] = i
        if sig:
            signatures.setdefault(key, sig)
    out: list[tuple[Json, str | None]] = []
    for i, (part, sig, _) in enumerate(shown):
        key = None if "text" in part else _image_key(part)
        if key is None:
            out.append((part, sig))
        elif kept[key] == i:
            out.append((part, sig or signatures.get(key)))
    return out
