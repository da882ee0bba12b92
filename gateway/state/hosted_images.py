"""Hosted images: generated images kept by the gateway and served as short URLs, so clients
carry a link instead of megabytes of base64 on every turn (issue #5).

Names are content-addressed (a digest of the image's base64), so they are unguessable without
the image itself. The bytes live in the turn store (memory or SQLite) under `f:<name>`, kept as
base64 text so a URL coming back in a request is inlined without re-encoding.
"""

from __future__ import annotations

import base64
import re
from typing import Final

from gateway.state.store import TurnStore

NAME_RE: Final = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{2,5}")  # fullmatch: `$` let "\n" through


class HostedImages:
    def __init__(self, store: TurnStore, public_url: str) -> None:
        self.store = store
        self.public_url = public_url.rstrip("/")

    def name_of(self, url: str) -> str | None:
        prefix = f"{self.public_url}/v1/files/"
        if not url.startswith(prefix):
            return None
        name = url[len(prefix) :].split("?", 1)[0]
        return name if NAME_RE.fullmatch(name) else None

    async def put_many(self, items: tuple[tuple[str, str, str], ...]) -> None:
        if items:
            await self.store.put_many(
                {f"f:{name}": f"{mime}\n{data}".encode("ascii") for name, mime, data in items}
            )

    async def get_b64(self, name: str) -> tuple[str, str] | None:
        raw = await self.store.get(f"f:{name}")
        if raw is None:
            return None
        mime, _, data = raw.decode("ascii").partition("\n")
        return mime, data

    async def get_bytes(self, name: str) -> tuple[str, bytes] | None:
        found = await self.get_b64(name)
        if found is None:
            return None
        return found[0], base64.b64decode(found[1])
