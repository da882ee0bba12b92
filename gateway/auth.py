"""Who may call the gateway, and which Gemini key a call uses (contract in design.md).

- `GATEWAY_API_KEYS` set: the client must present one of them (compared in constant time) and
  the call uses the server's Gemini keys.
- server key(s) set: they are used; a client bearer is ignored.
- no server key: the client's bearer is forwarded as `x-goog-api-key` (pass-through).

The native Gemini routes take the key where Google's clients put it (`native_presented_key`)
and refuse a wrong client key with 403, a missing one with 401, both in Google's error shape.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gateway.config import Settings
from gateway.errors import AuthenticationError, GatewayError, PermissionDeniedError

EMULATOR_KEY = "emulator"
MAX_KEY_CHARS = 512


def presented_key(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    for name in ("x-api-key", "api-key", "x-goog-api-key"):
        value = headers.get(name)
        if value:
            return value.strip()
    return None


def is_client_key(presented: str | None, allowed: tuple[str, ...]) -> bool:
    if presented is None:
        return False
    candidate = presented.encode()
    found = False
    for key in allowed:  # no early exit: every key is compared
        found |= hmac.compare_digest(candidate, key.encode())
    return found


def _header_safe(key: str) -> bool:
    """A forwarded key becomes a header value: printable ASCII only, or httpx refuses it."""
    return len(key) <= MAX_KEY_CHARS and all("!" <= ch <= "~" for ch in key)


@dataclass(frozen=True, slots=True)
class Wording:
    """How one surface tells a client where its key goes."""

    where: str  # e.g. "as the OpenAI api_key"
    wrong: type[GatewayError] = AuthenticationError  # a key that is not a client key


OPENAI: Final = Wording("as the OpenAI api_key")
NATIVE: Final = Wording("in x-goog-api-key, ?key= or Authorization: Bearer", PermissionDeniedError)


def upstream_key_for(settings: Settings, headers: Mapping[str, str]) -> str | None:
    """None means "use the server's keys"; raises AuthenticationError for a refused client."""
    return key_for(settings, presented_key(headers), OPENAI)


def native_presented_key(headers: Mapping[str, str], query_key: str | None) -> str | None:
    """The key as Google's own clients send it: `x-goog-api-key`, `?key=`, or a bearer."""
    for value in (headers.get("x-goog-api-key"), query_key):
        if value and value.strip():
            return value.strip()
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def key_for(settings: Settings, presented: str | None, wording: Wording) -> str | None:
    """The one rule for every surface: None means "use the server's keys"; a refused client
    gets 401 (no key) or `wording.wrong` (a key that is not one of the client keys). On Vertex
    AI with Google Cloud credentials the gateway's own token is used: a client's key is never
    forwarded there."""
    if settings.client_keys and not is_client_key(presented, settings.client_keys):
        cls = AuthenticationError if presented is None else wording.wrong
        raise cls(
            "Incorrect or missing API key for this gateway: pass one of its client keys "
            + wording.where
        )
    if settings.vertex and not settings.vertex_express:
        return None
    if settings.client_keys:
        if not settings.api_keys and settings.upstream == "emulator":
            return EMULATOR_KEY
        return None
    if settings.api_keys:
        return None
    if presented:
        if not _header_safe(presented):
            raise AuthenticationError(
                "the API key holds characters no Gemini key has (only printable ASCII)"
            )
        return presented
    if settings.upstream == "emulator":
        return EMULATOR_KEY
    raise AuthenticationError(
        "No Gemini API key: set GEMINI_API_KEY on the gateway, or pass your Gemini key "
        + wording.where
    )


def scope_credential(settings: Settings, headers: Mapping[str, str]) -> str | None:
    """The credential whose owner may get remembered state back (gateway/state/scope.py): the
    client key when the gateway has client keys, the caller's own Gemini key in pass-through,
    None (one shared scope) when the gateway has neither. Call after `upstream_key_for`."""
    if settings.client_keys:
        return presented_key(headers)
    if settings.api_keys:
        return None
    return presented_key(headers)
