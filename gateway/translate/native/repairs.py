"""The two documented repairs of a native request body (design.md, Decisions), in place.

1. `snake_case`: proto field names written snake_case (`inline_data`, `mime_type`,
   `thought_signature`, `generation_config`, ... the seed article's REST sample) become camelCase.
   Gemini reads either spelling; the gateway renames them so that what it reads itself (parts,
   signatures, file URIs) has one spelling, and so that a part can never carry both spellings
   of one field. Only names of the schema (schema.py) are renamed; the caller's own keys never.
2. `lone_signature`: a part that holds nothing but a thought signature, right after the part it
   belongs to (the seed's round-2 body: `{"inline_data": ...}, {"thought_signature": ...}`), is
   attached to that part. Gemini refuses a part without data, and a signature on a part of its
   own would not sign anything.

Each repair is counted; a body that needs none is not touched (and is relayed as its bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.translate.native.schema import MESSAGES, SNAKE_TO_CAMEL

SIGNATURE: Final = "thoughtSignature"
DATA_FIELDS: Final = frozenset(
    {
        "text",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
    }
)


@dataclass(slots=True)
class Repairs:
    snake_case: int = 0  # field names renamed
    lone_signature: int = 0  # signature-only parts attached to the part before them

    def __bool__(self) -> bool:
        return bool(self.snake_case or self.lone_signature)

    def items(self) -> list[tuple[str, int]]:
        return [
            (k, n)
            for k, n in (("snake_case", self.snake_case), ("lone_signature", self.lone_signature))
            if n
        ]

    def header(self) -> str:
        """`x-gateway-repairs`, e.g. `snake_case=3;lone_signature=1` ("" when none)."""
        return ";".join(f"{kind}={count}" for kind, count in self.items())


def repair(body: Any, message: str) -> Repairs:
    """Repairs `body` (a `GenerateContentRequest` or `CountTokensRequest`) in place."""
    done = Repairs()
    if not isinstance(body, dict):
        return done
    done.snake_case = _camel_case(body, message)
    for contents in _all_contents(body):
        done.lone_signature += _attach_signatures(contents)
    return done


def _camel_case(node: dict[str, Any], message: str) -> int:
    renames = SNAKE_TO_CAMEL[message]
    fields = MESSAGES[message]
    count = 0
    if any(key in renames for key in node):
        items = list(node.items())
        present = set(node)
        node.clear()
        for key, value in items:
            camel = renames.get(key)
            if camel is not None and camel not in present:
                key = camel
                count += 1
            node[key] = value
    for key, value in node.items():
        child = fields.get(key)
        if child is None:
            continue
        if isinstance(value, dict):
            count += _camel_case(value, child)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    count += _camel_case(item, child)
    return count


def _all_contents(body: dict[str, Any]) -> list[list[Any]]:
    found = []
    for holder in (body, body.get("generateContentRequest")):
        if isinstance(holder, dict) and isinstance(holder.get("contents"), list):
            found.append(holder["contents"])
    return found


def _attach_signatures(contents: list[Any]) -> int:
    count = 0
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list):
            continue
        kept: list[Any] = []
        for part in parts:
            before = kept[-1] if kept else None
            if (
                isinstance(part, dict)
                and list(part) == [SIGNATURE]
                and isinstance(before, dict)
                and SIGNATURE not in before
                and not DATA_FIELDS.isdisjoint(before)
            ):
                before[SIGNATURE] = part[SIGNATURE]
                count += 1
                continue
            kept.append(part)
        if len(kept) != len(parts):
            parts[:] = kept
    return count
