"""Opt-in on the native routes: a `fileData` part whose `fileUri` is one of the gateway's own
hosted image URLs (`{GATEWAY_PUBLIC_URL}/v1/files/<name>`) becomes the image's bytes inline.

Gemini cannot fetch the gateway's URLs, so without this a native client holding such a link
(from the OpenAI surface, or a chat UI) would have to download and re-upload the image itself.
The part keeps its place and its other fields (a thought signature stays on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Json = dict[str, Any]


def hosted_parts(body: Json, name_of: Callable[[str], str | None]) -> list[tuple[Json, str]]:
    """Every part (in `contents`, and a countTokens' `generateContentRequest`) referring to a
    hosted image, with the image's name; camelCase fields only (repairs run first)."""
    found: list[tuple[Json, str]] = []
    for holder in (body, body.get("generateContentRequest")):
        contents = holder.get("contents") if isinstance(holder, dict) else None
        for content in contents if isinstance(contents, list) else []:
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                file_data = part.get("fileData") if isinstance(part, dict) else None
                uri = file_data.get("fileUri") if isinstance(file_data, dict) else None
                name = name_of(uri) if isinstance(uri, str) else None
                if name is not None:
                    found.append((part, name))
    return found


def inline(part: Json, mime: str, data: str) -> None:
    """`part`'s `fileData` replaced, in place and in its position, by `inlineData`."""
    items = list(part.items())
    part.clear()
    for key, value in items:
        if key == "fileData":
            part["inlineData"] = {"mimeType": mime, "data": data}
        else:
            part[key] = value
