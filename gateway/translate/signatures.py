"""Every carrier of a thought signature that clients send back, read in one place.

Preference (issue #3): our own carrier (`extra_content.google.parts`, read in model_turn.py);
Google's `extra_content.google.thought_signature` (message, tool calls, image items); OpenRouter
`reasoning_details` (`reasoning.encrypted`); LiteLLM `provider_specific_fields` (its own
`thought_signatures`, or our `extra_content` kept under it); Portkey
`function.thought_signature`. Signatures are opaque strings, never decoded or re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

Json = dict[str, Any]

DUMMY_SIGNATURE: Final = "skip_thought_signature_validator"
SIG: Final = "thoughtSignature"


def with_dummy_signature(part: Json) -> Json:
    """The part carrying the documented dummy: where Gemini requires a signature (families.py
    says where) and the real one is unknown or no longer signs the part (a shrunk image)."""
    return {**part, SIG: DUMMY_SIGNATURE}


def _google_of(holder: Any) -> Json | None:
    extra = holder.get("extra_content") if isinstance(holder, dict) else None
    google = extra.get("google") if isinstance(extra, dict) else None
    return google if isinstance(google, dict) else None


def google_extra(item: Any) -> Json | None:
    """`extra_content.google` of a message, tool call or image item, where the client kept it:
    at the top, as we sent it, or under `provider_specific_fields` (LiteLLM as a client keeps
    every field it does not know there, and sends it back there)."""
    if not isinstance(item, dict):
        return None
    return _google_of(item) or _google_of(item.get("provider_specific_fields"))


def google_signature(item: Any) -> str | None:
    google = google_extra(item)
    sig = google.get("thought_signature") if google is not None else None
    return sig if isinstance(sig, str) and sig else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(slots=True)
class LooseSignatures:
    """Signatures found outside our own carrier, by what they are attached to."""

    text: list[str] = field(default_factory=list)
    by_call_id: dict[str, str] = field(default_factory=dict)
    by_image_url: dict[str, str] = field(default_factory=dict)

    def first_text(self) -> str | None:
        return self.text[0] if self.text else None

    def all(self) -> list[str]:
        return [*self.text, *self.by_call_id.values(), *self.by_image_url.values()]


def _tool_call_signature(call: Json) -> str | None:
    psf = call.get("provider_specific_fields")
    fn = call.get("function")
    return (
        google_signature(call)
        or (_str(psf.get("thought_signature")) if isinstance(psf, dict) else None)
        or (_str(fn.get("thought_signature")) if isinstance(fn, dict) else None)
    )


def _reasoning_details(message: Json, found: LooseSignatures) -> None:
    for detail in message.get("reasoning_details") or []:
        if not isinstance(detail, dict) or detail.get("type") != "reasoning.encrypted":
            continue
        data = _str(detail.get("data"))
        if data is None:
            continue
        call_id = _str(detail.get("id"))
        if call_id:
            found.by_call_id.setdefault(call_id, data)
        else:
            found.text.append(data)


def _content_parts(message: Json, found: LooseSignatures) -> None:
    content = message.get("content")
    if not isinstance(content, list):
        return
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "non_standard" and isinstance(part.get("value"), dict):
            part = part["value"]
        sig = google_signature(part)
        if part.get("type") == "thought_signature":
            sig = _str(part.get("thought_signature"))
            if sig:
                found.text.append(sig)
        elif part.get("type") == "image_url" and sig:
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                found.by_image_url[url] = sig
        elif part.get("type") == "text" and sig:
            found.text.append(sig)


def loose_signatures(message: Json) -> LooseSignatures:
    found = LooseSignatures()
    sig = google_signature(message)
    if sig:
        found.text.append(sig)
    psf = message.get("provider_specific_fields")
    if isinstance(psf, dict):
        found.text.extend(s for s in psf.get("thought_signatures") or [] if _str(s))
    _reasoning_details(message, found)
    _content_parts(message, found)
    for call in message.get("tool_calls") or []:
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            call_sig = _tool_call_signature(call)
            if call_sig:
                found.by_call_id[call["id"]] = call_sig
    for item in message.get("images") or []:
        image = item.get("image_url") if isinstance(item, dict) else None
        url = image.get("url") if isinstance(image, dict) else None
        item_sig = google_signature(item)
        if isinstance(url, str) and item_sig:
            found.by_image_url[url] = item_sig
    return found
