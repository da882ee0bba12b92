"""The turn record: what the turn cache remembers of one model turn, and its encoding.

Written after a response (serving/resolve.py `remember`), stored as opaque bytes by a
`gateway.state` backend under the keys of translate/turn_keys.py, read back before the next
request's translation (translate/request/model_turn.py). It lives here, in the pure bottom
layer, because translation reads it and translate/ may not import the state layer; the state
layer stores only its bytes.

Encoded as a JSON object: `v` (its schema version, protocol/schema.py; absent in what 0.1.0 and
0.2.0 wrote, read as 1), `parts` (the Gemini parts to replay, signatures and image data included),
`tool_call_ids`, `model`, `backend` when not AI Studio, and either `content` (the text the client
was shown) or `content_pieces` (that text as pieces, each mirrored image as `{"part": i}` naming
parts[i], so an image is stored once, not twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gateway import lifted_json
from gateway.protocol import schema
from gateway.protocol.schema import Unread

Json = dict[str, Any]
Piece = str | dict[str, int]


@dataclass(frozen=True, slots=True)
class TurnRecord:
    parts: tuple[Json, ...]
    tool_call_ids: tuple[str, ...] = ()
    model: str = ""
    content: str | None = None  # what the client was shown, when it holds no mirrored image
    content_pieces: tuple[Piece, ...] | None = None  # otherwise: that text, images as part refs
    backend: str = ""  # who minted its signatures: "" AI Studio, "vertex:{project}" (origin.py)

    @classmethod
    def of_turn(
        cls,
        parts: Sequence[Json],
        content: str,
        pieces: Sequence[Piece],
        tool_call_ids: Sequence[str],
        model: str,
        backend: str = "",
    ) -> TurnRecord:
        """Keeps the pieces only when they reference an image (otherwise the text is smaller)."""
        mirrored = any(not isinstance(piece, str) for piece in pieces)
        return cls(
            parts=tuple(parts),
            tool_call_ids=tuple(tool_call_ids),
            model=model,
            content=None if mirrored else content,
            content_pieces=tuple(pieces) if mirrored else None,
            backend=backend,
        )

    def encode(self) -> bytes:
        shown: Json = (
            {"content_pieces": list(self.content_pieces)}
            if self.content_pieces is not None
            else {"content": self.content}
        )
        return orjson.dumps(
            {
                schema.VERSION_FIELD: schema.TURN_RECORD,
                "parts": list(self.parts),
                **shown,
                "tool_call_ids": list(self.tool_call_ids),
                "model": self.model,
                **({"backend": self.backend} if self.backend else {}),
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> TurnRecord | None:
        """None for bytes that are not a record this release reads (a cache miss, not an
        error); `read` says why."""
        found = cls.read(raw)
        return found if isinstance(found, TurnRecord) else None

    @classmethod
    def read(cls, raw: bytes) -> TurnRecord | Unread:
        """The record, or why it is not read: a newer version, or bytes of another shape. A
        record without a version is version 1 (0.1.0 and 0.2.0 wrote none)."""
        try:
            data = lifted_json.loads(raw)
        except orjson.JSONDecodeError:
            return Unread("unreadable")
        if not isinstance(data, dict):
            return Unread("unreadable")
        unread = schema.check_version(data, schema.TURN_RECORD)
        if unread is not None:
            return unread
        parts = data.get("parts")
        ids = data.get("tool_call_ids") or []
        pieces = data.get("content_pieces")
        content = data.get("content")
        if not (
            isinstance(parts, list)
            and all(isinstance(p, dict) for p in parts)
            and isinstance(ids, list)
            and all(isinstance(i, str) for i in ids)
            and (pieces is None or isinstance(pieces, list))
            and all(isinstance(piece, str | dict) for piece in pieces or ())
            and (content is None or isinstance(content, str))
        ):
            return Unread("unreadable")
        return cls(
            parts=tuple(parts),
            tool_call_ids=tuple(ids),
            model=str(data.get("model") or ""),
            content=content,
            content_pieces=None if pieces is None else tuple(pieces),
            backend=backend if isinstance(backend := data.get("backend"), str) else "",
        )

    def shows(self, visible: str) -> bool:
        """Whether the client was shown exactly `visible`; mirrored images are compared in
        place against the parts' data (no copies)."""
        if self.content_pieces is None:
            return self.content == visible
        pos = 0
        for piece in self.content_pieces:
            if isinstance(piece, dict):
                url = self._data_url_of(piece.get("part"))
                if url is None:
                    return False
                head, data = url
                if not (
                    visible.startswith(head, pos) and visible.startswith(data, pos + len(head))
                ):
                    return False
                pos += len(head) + len(data)
            elif visible.startswith(piece, pos):
                pos += len(piece)
            else:
                return False
        return pos == len(visible)

    def _data_url_of(self, index: Any) -> tuple[str, str] | None:
        if not isinstance(index, int) or not 0 <= index < len(self.parts):
            return None
        part = self.parts[index]
        blob = part.get("inlineData") or part.get("inline_data")
        if not isinstance(blob, dict) or not isinstance(blob.get("data"), str):
            return None
        mime = blob.get("mimeType") or blob.get("mime_type") or "application/octet-stream"
        return f"data:{mime};base64,", blob["data"]
