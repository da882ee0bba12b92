"""A request body to Gemini: one `bytes`, or pieces sent one after another without joining.

Pieces let an image request reuse the client's own bytes for each base64 payload
(serving/splice.py) instead of encoding megabytes into a new buffer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pieces:
    parts: tuple[bytes | memoryview, ...]
    size: int

    def joined(self) -> bytes:
        """One buffer: for a transport that wants one, and for body logging."""
        return b"".join(self.parts)


Body = bytes | Pieces


def as_bytes(body: Body) -> bytes:
    return body if isinstance(body, bytes) else body.joined()


def parts_of(body: Body) -> tuple[bytes | memoryview, ...]:
    return (body,) if isinstance(body, bytes) else body.parts


def size_of(body: Body) -> int:
    return len(body) if isinstance(body, bytes) else body.size
