"""Whether a remembered model turn showed exactly what the client sends back as content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def record_shows(record: Mapping[str, Any], visible: str) -> bool:
    """Whether the remembered turn showed exactly `visible`. A record keeps either the content
    or its pieces with each mirrored image as `{"part": i}`, compared in place (no copies)."""
    pieces = record.get("content_pieces")
    if pieces is None:
        return record.get("content") == visible
    parts = record.get("parts")
    if not isinstance(pieces, list) or not isinstance(parts, list):
        return False
    pos = 0
    for piece in pieces:
        if isinstance(piece, dict):
            url = _data_url_of(parts, piece.get("part"))
            if url is None:
                return False
            head, data = url
            if not (visible.startswith(head, pos) and visible.startswith(data, pos + len(head))):
                return False
            pos += len(head) + len(data)
        elif isinstance(piece, str) and visible.startswith(piece, pos):
            pos += len(piece)
        else:
            return False
    return pos == len(visible)


def _data_url_of(parts: list[Any], index: Any) -> tuple[str, str] | None:
    if not isinstance(index, int) or not 0 <= index < len(parts):
        return None
    part = parts[index]
    blob = (part.get("inlineData") or part.get("inline_data")) if isinstance(part, dict) else None
    if not isinstance(blob, dict) or not isinstance(blob.get("data"), str):
        return None
    mime = blob.get("mimeType") or blob.get("mime_type") or "application/octet-stream"
    return f"data:{mime};base64,", blob["data"]
