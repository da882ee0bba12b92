"""Verifiable thought signatures: an HMAC over the part they sign, so a replay that changes the part
(or drops bytes of the signature) is caught the way Gemini catches it, with `Corrupted thought
signature.`

Wire form: standard base64 of `HMAC_SHA256(secret, canonical_bytes(part))` (32 bytes, 44 chars),
optionally followed, inside the same base64, by SHAKE-256 filler derived from the MAC and the
length, so large signatures (`signature_bytes`) stay deterministic and every character is checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Final, Literal

import orjson

from gateway.emulator.fields import base64_identity, decode_base64, field, is_thought, part_text

Verdict = Literal["ok", "dummy", "corrupted", "missing"]

DUMMY_SIGNATURES: Final = (
    "skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go",
)
_DUMMY_BYTES: Final = frozenset(d.encode() for d in DUMMY_SIGNATURES)
_MAC_SIZE: Final = 32
_SIGNATURE_KEYS: Final = ("thoughtSignature", "thought_signature")


def canonical_bytes(part: Mapping[str, Any]) -> bytes:
    """What a signature covers: the part's meaning, not its JSON spelling or its id."""
    text = part_text(part)
    if text is not None:
        return b"text\0" + (b"1" if is_thought(part) else b"0") + text.encode()
    inline = field(part, "inlineData")
    if isinstance(inline, dict):
        mime = str(field(inline, "mimeType") or "")
        # The bytes, not their spelling: Gemini (and google-genai, which re-encodes URL-safe) see
        # `AB+/` and `AB-_` as the same image.
        data = base64_identity(str(inline.get("data") or ""))
        return b"image\0" + mime.encode() + hashlib.sha256(data).digest()
    call = field(part, "functionCall")
    if isinstance(call, dict):
        args = orjson.dumps(call.get("args") or {}, option=orjson.OPT_SORT_KEYS)
        return b"fc\0" + str(call.get("name", "")).encode() + args
    rest = {k: v for k, v in part.items() if k not in _SIGNATURE_KEYS}
    return b"part\0" + orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)


def _normal(signature: str) -> str:
    return signature.replace("-", "+").replace("_", "/").rstrip("=")


class Signer:
    """Issues and checks signatures with one secret; `signature_bytes` pads them for perf tests."""

    def __init__(self, secret: bytes, signature_bytes: int | None = None) -> None:
        self._secret = secret
        self._raw_size = max(_MAC_SIZE, (signature_bytes or 0) // 4 * 3)

    def mac(self, part: Mapping[str, Any]) -> bytes:
        return hmac.new(self._secret, canonical_bytes(part), hashlib.sha256).digest()

    def issue(self, part: Mapping[str, Any]) -> str:
        return self._encode(self.mac(part), self._raw_size)

    @staticmethod
    def _encode(mac: bytes, raw_size: int) -> str:
        if raw_size <= _MAC_SIZE:
            return base64.b64encode(mac).decode("ascii")
        # The filler depends on the total size too, so a truncated signature does not verify.
        seed = mac + raw_size.to_bytes(8, "big")
        filler = hashlib.shake_256(seed).digest(raw_size - _MAC_SIZE)
        return base64.b64encode(mac + filler).decode("ascii")

    def verify(self, part: Mapping[str, Any], signature: str) -> Verdict:
        """`dummy` for Google's documented skip values, `ok` only if every character matches."""
        if signature in DUMMY_SIGNATURES:
            return "dummy"
        raw = decode_base64(signature)
        if raw is None:
            return "corrupted"
        if raw in _DUMMY_BYTES:
            return "dummy"
        if len(raw) < _MAC_SIZE:
            return "corrupted"
        expected = self._encode(self.mac(part), len(raw))
        return "ok" if hmac.compare_digest(_normal(signature), _normal(expected)) else "corrupted"
