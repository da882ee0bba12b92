"""Who may call the gateway, and which Gemini key a call uses (contract in design.md).

- `GATEWAY_API_KEYS` set: the client must present one of them (compared in constant time) and
  the call uses the server's Gemini keys.
- server key(s) set: they are used; a client bearer is ignored.
- no server key: the client's bearer is forwarded as `x-goog-api-key` (pass-through).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from gateway.config import Settings
from gateway.errors import AuthenticationError

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


def upstream_key_for(settings: Settings, headers: Mapping[str, str]) -> str | None:
    """None means "use the server's keys"; raises AuthenticationError for a refused client.
    On Vertex AI with Google Cloud credentials the gateway's own token is used: a client's
    bearer is never forwarded there."""
    presented = presented_key(headers)
    if settings.vertex and not settings.vertex_express:
        if settings.client_keys and not is_client_key(presented, settings.client_keys):
            raise AuthenticationError(
                "Incorrect or missing API key for this gateway: pass one of its client keys "
                "as the OpenAI api_key"
            )
        return None
    if settings.client_keys:
        if not is_client_key(presented, settings.client_keys):
            raise AuthenticationError(
                "Incorrect or missing API key for this gateway: pass one of its client keys "
                "as the OpenAI api_key"
            )
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
        "No Gemini API key: set GEMINI_API_KEY on the gateway, or pass your Gemini key as the "
        "OpenAI api_key"
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
