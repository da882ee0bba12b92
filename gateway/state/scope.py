"""Tenancy: who may get a remembered thing back (design.md, Decisions: "who may get a
remembered turn back").

Everything the gateway remembers for a caller — turn-cache records, and later stored responses
and conversations — lives under the caller's *scope*: one id per credential, derived once per
request (`scope_for`) and put in front of every store key (`ScopedStore`). Two callers with
different credentials therefore never read each other's entries, whatever the rest of the key
(visible text, image fingerprint, tool-call id) says; the same caller always meets its own.

The credential that defines the scope is chosen by `gateway.auth.scope_credential`: the client
key when the gateway has client keys, the caller's own Gemini key in pass-through, and none (one
shared scope) when the gateway has neither. The scope id is a keyed hash (HMAC-SHA256 under a
fixed, versioned label) of the credential, never the credential itself, so a store dump, a key
listing or a log line reveals no key; the label keeps these ids apart from any other hash of
the same key. It is stable across processes and hosts, which a shared store (SQLite, Redis)
needs for turn 2 on replica B to find turn 1 from replica A.

Hosted image *bytes* are not scoped: their URLs are unguessable capability URLs that browsers
fetch without a key (design.md). What a hosted URL sent back restores — its thought signature,
its turn — comes from the turn cache, so only the scope that made it gets it; any other scope
gets the image as plain bytes.

The backends stay unaware of scopes: a scope is only a key prefix, so any `TurnStore` (memory,
SQLite, Redis) keeps working unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from gateway.state.store import TurnStore

SHARED_SCOPE: Final = "shared"  # no credential to tell callers apart: one scope for everyone
_LABEL: Final = b"gemini-gateway/scope/v1"
_ID_HEX: Final = 32  # 128 bits: collisions between credentials are out of reach


def scope_for(credential: str | None) -> str:
    """The scope id of a credential (None: the shared scope). Hex, so never `SHARED_SCOPE`."""
    if credential is None:
        return SHARED_SCOPE
    return hmac.new(_LABEL, credential.encode(), hashlib.sha256).hexdigest()[:_ID_HEX]


def scoped_key(scope: str, key: str) -> str:
    """The store key of `key` inside `scope` (`s:<scope>:<key>`)."""
    return f"s:{scope}:{key}"


@dataclass(frozen=True, slots=True)
class ScopedStore:
    """A view of a `TurnStore` limited to one scope: callers use their own keys, the view
    prefixes them. Reads and writes only; stats, readiness and closing stay with the store."""

    store: TurnStore
    scope: str

    async def get(self, key: str) -> bytes | None:
        return await self.store.get(scoped_key(self.scope, key))

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        full = {scoped_key(self.scope, key): key for key in keys}
        found = await self.store.get_many(list(full))
        return {full[key]: value for key, value in found.items()}

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        await self.store.put_many(
            {scoped_key(self.scope, key): value for key, value in items.items()}
        )
