"""The reasoning item's `encrypted_content`: a gateway-signed envelope that carries one Gemini
model turn's part layout and thought signatures (design.md, "Responses API signature carrier").

    ggw1.<base64url(orjson({"v": 1, "m": model, "b": backend, "p": layout}))>.<base64url(mac)>

`mac` is the first 16 bytes of HMAC-SHA256(secret, "ggw1.<payload>"). The layout lists the
turn's replayed parts in order; big values the client already holds (texts, image bytes,
function arguments) appear as fingerprints, so the envelope stays small while signatures
(hundreds of KB at times) travel byte for byte:

    {"t": fp(text), "s"?: sig}                     a text part (one output_text)
    {"th": text, "s": sig}                         a signed thought part (kept whole)
    {"i": fp(base64), "mt": mime, "s"?: sig}       an image (one image_generation_call)
    {"c": call_id, "a": fp(args), "n"?: 1, "s"?}   a function call (n: Gemini's own id)
    {"x": part, "r"?: 1}                           any other part, kept whole (r: shown as text)
    {"note": text}                                 a gateway sentence shown as text, not replayed

Why signed and not merely encoded: an edited or foreign envelope must never put a signature on
a part it does not belong to (Gemini answers "Corrupted thought signature"); one that fails the
check is ignored (logged and counted) and the turn is rebuilt the way a chat turn is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Final

import orjson

Json = dict[str, Any]

PREFIX: Final = "ggw1"
MAC_BYTES: Final = 16


@dataclass(frozen=True, slots=True)
class Opened:
    model: str
    backend: str
    layout: list[Json]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, head: str) -> str:
    return _b64(hmac.new(secret, head.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES])


def seal(layout: list[Json], *, model: str, backend: str, secret: bytes) -> str:
    payload = _b64(orjson.dumps({"v": 1, "m": model, "b": backend, "p": layout}))
    head = f"{PREFIX}.{payload}"
    return f"{head}.{_mac(secret, head)}"


def open_envelope(token: Any, secret: bytes) -> Opened | str:
    """The envelope's content, or why it cannot be used: "foreign" (not ours: another
    provider's encrypted_content), "forged" (ours in form, but edited or signed with another
    secret) or "malformed"."""
    if not isinstance(token, str) or not token.startswith(PREFIX + "."):
        return "foreign"
    head, dot, mac = token.rpartition(".")
    if not dot or not hmac.compare_digest(mac, _mac(secret, head)):
        return "forged"
    try:
        data = orjson.loads(_unb64(head[len(PREFIX) + 1 :]))
    except (binascii.Error, ValueError):
        return "malformed"
    layout = data.get("p") if isinstance(data, dict) else None
    if not isinstance(layout, list) or not all(isinstance(d, dict) for d in layout):
        return "malformed"
    return Opened(str(data.get("m") or ""), str(data.get("b") or ""), layout)
