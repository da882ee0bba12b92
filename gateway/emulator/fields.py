"""Read request fields in either spelling, because Gemini accepts camelCase and snake_case alike."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final

_CAMEL_HUMP: Final = re.compile(r"(?<!^)(?=[A-Z])")
_URLSAFE_TO_STANDARD: Final = str.maketrans("-_", "+/")
_BASE64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"

JsonObject = dict[str, Any]


@cache
def snake(name: str) -> str:
    return _CAMEL_HUMP.sub("_", name).lower()


@cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def spellings(names: Iterable[str]) -> frozenset[str]:
    """Both spellings of each camelCase name, for the unknown-field checks."""
    return frozenset(name for n in names for name in (n, snake(n)))


def field(mapping: Mapping[str, Any], name: str) -> Any:
    """The value under the camelCase `name` or its snake_case twin (None when absent)."""
    value = mapping.get(name)
    if value is None:
        value = mapping.get(snake(name))
    return value


def obj(mapping: Mapping[str, Any], name: str) -> JsonObject:
    """Like `field`, but an absent or non-object value reads as an empty object."""
    value = field(mapping, name)
    return value if isinstance(value, dict) else {}


def objects(mapping: Mapping[str, Any], name: str) -> list[JsonObject]:
    """The object items of a list field (anything else is ignored here; validation reports it)."""
    value = field(mapping, name)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def decode_base64(text: str) -> bytes | None:
    """Proto3 JSON bytes: standard or URL-safe alphabet, padding optional; None if malformed."""
    if not is_base64(text):
        return None
    normal = text.translate(_URLSAFE_TO_STANDARD).rstrip("=")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def is_base64(text: str) -> bool:
    """The same acceptance as `decode_base64`, without decoding (images can be megabytes)."""
    if not text.isascii():
        return False
    body = text.rstrip("=")
    padding = len(text) - len(body)
    if padding > 2 or len(body) % 4 == 1 or (padding and len(text) % 4):
        return False
    return not body.encode("ascii").translate(None, _BASE64_ALPHABET)


def base64_identity(text: str) -> bytes:
    """One spelling per byte string (standard alphabet, no padding), cheap to hash."""
    body = text.rstrip("=")
    if "-" in body or "_" in body:
        body = body.translate(_URLSAFE_TO_STANDARD)
    return body.encode("ascii", "replace")


def part_text(part: Mapping[str, Any]) -> str | None:
    value = part.get("text")
    return value if isinstance(value, str) else None


def is_thought(part: Mapping[str, Any]) -> bool:
    return part.get("thought") is True


def signature_of(part: Mapping[str, Any]) -> str | None:
    value = field(part, "thoughtSignature")
    return value if isinstance(value, str) else None


def content_role(content: Mapping[str, Any]) -> str:
    """Gemini lets `role` be blank; a blank role is a user turn."""
    role = content.get("role")
    return role if isinstance(role, str) and role else "user"


def user_text(content: Mapping[str, Any]) -> str | None:
    """The visible text of a content (thoughts excluded), or None when it has no text part."""
    texts = [
        text
        for part in objects(content, "parts")
        if (text := part_text(part)) is not None and not is_thought(part)
    ]
    return "\n".join(texts) if texts else None
