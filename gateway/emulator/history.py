"""Checks on the conversation history the client replays: function-call pairing, Gemini 3's
current-turn signature rule, and a verdict for every signature, so tests can prove the gateway
sent each model part back byte-exact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.emulator.errors import GeminiError, invalid_argument
from gateway.emulator.fields import (
    content_role,
    field,
    is_thought,
    objects,
    signature_of,
    user_text,
)
from gateway.emulator.models import ModelInfo
from gateway.emulator.signatures import Signer, Verdict

PAIRING_MESSAGE: Final = (
    "Please ensure that the number of function response parts is equal to the number of function "
    "call parts of the function call turn."
)


@dataclass(frozen=True)
class SignatureCheck:
    """One verdict: `missing` means an unsigned part the emulator had issued with a signature (or a
    Gemini 3 current-turn function call without one)."""

    content_index: int
    part_index: int
    verdict: Verdict


@dataclass(frozen=True)
class HistoryReport:
    checks: list[SignatureCheck]
    error: GeminiError | None


def call_names(content: dict[str, Any], kind: str = "functionCall") -> list[str]:
    names: list[str] = []
    for part in objects(content, "parts"):
        call = field(part, kind)
        if isinstance(call, dict):
            names.append(str(call.get("name", "")))
    return names


def current_turn_start(contents: Sequence[dict[str, Any]]) -> int:
    """Index just after the last user content holding text: where Gemini's "current turn" begins."""
    for i in range(len(contents) - 1, -1, -1):
        if content_role(contents[i]) == "user" and user_text(contents[i]) is not None:
            return i + 1
    return 0


def inspect_history(
    contents: Sequence[dict[str, Any]], model: ModelInfo, signer: Signer, issued: Container[bytes]
) -> HistoryReport:
    unsigned_call = _unsigned_current_call(contents) if model.is_gemini3 else None
    flagged = unsigned_call[:2] if unsigned_call else None
    checks: list[SignatureCheck] = []
    for i, content in enumerate(contents):
        if content_role(content) != "model":
            continue
        for j, part in enumerate(objects(content, "parts")):
            signature = signature_of(part)
            if signature is not None:
                checks.append(SignatureCheck(i, j, signer.verify(part, signature)))
            elif (i, j) == flagged or (not is_thought(part) and signer.mac(part) in issued):
                checks.append(SignatureCheck(i, j, "missing"))
    error = _pairing_error(contents)
    if error is None and unsigned_call is not None:
        i, _, name = unsigned_call
        error = invalid_argument(
            "Function call is missing a thought_signature in functionCall parts. This is required "
            "for tools to work correctly, and missing thought_signature may lead to degraded model "
            f"performance. Additional data, function call `default_api:{name}` , position {i + 1}. "
            "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more "
            "details."
        )
    if error is None and any(check.verdict == "corrupted" for check in checks):
        error = invalid_argument("Corrupted thought signature.")
    return HistoryReport(checks, error)


def _unsigned_current_call(contents: Sequence[dict[str, Any]]) -> tuple[int, int, str] | None:
    """The first current-turn model content whose first functionCall lacks a signature."""
    for i in range(current_turn_start(contents), len(contents)):
        if content_role(contents[i]) != "model":
            continue
        for j, part in enumerate(objects(contents[i], "parts")):
            call = field(part, "functionCall")
            if isinstance(call, dict):
                if signature_of(part) is None:
                    return i, j, str(call.get("name", ""))
                break
    return None


def _pairing_error(contents: Sequence[dict[str, Any]]) -> GeminiError | None:
    """Each call turn must be answered by one user turn with the same multiset of names."""
    pending: list[str] | None = None
    for content in contents:
        responses = call_names(content, "functionResponse")
        if pending is not None:
            if content_role(content) != "user" or Counter(responses) != Counter(pending):
                return invalid_argument(PAIRING_MESSAGE)
            pending = None
        elif responses:
            return invalid_argument(PAIRING_MESSAGE)
        if content_role(content) == "model":
            pending = call_names(content) or None
    return invalid_argument(PAIRING_MESSAGE) if pending is not None else None
