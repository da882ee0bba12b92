"""Stored responses (`store: true`): the response object, the request's input items and each
generated image, scoped to the caller's credential (state/scope.py).

A narrow repository over the key/value TurnStore contract (store.py), in a store instance of
its own (state/open_state.py opens and closes it) so that retention (GATEWAY_RESPONSES_MAX_AGE,
30 days) and the size bound (GATEWAY_RESPONSES_MAX_BYTES, least recently used out first) are
not the turn cache's. The
exact Gemini turn is kept inside the stored output: the reasoning item's envelope plus the
image results rebuild it byte for byte, the same way a client's replay does.

Keys: `r:<scope>:<response id>` → {"v", "response", "input"} (versioned, state/stored_json.py);
`g:<scope>:<item id>` → an image result; a deleted response leaves a tombstone so that its id
answers 404 at once, and so do the images it made (unless a conversation still holds them).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.protocol.schema import STORED_RESPONSE
from gateway.state import stored_json
from gateway.state.factory import MEMORY_URL, SQLITE_PREFIX
from gateway.state.ignored import IgnoredRecords
from gateway.state.store import TurnStore

Json = dict[str, Any]

TOMBSTONE: Final = b"-"
SECRET_KEY: Final = "secret:envelope"
MAX_CHAIN: Final = 1000  # previous_response_id links followed at most (a loop guard)


def responses_store_url(state_url: str) -> str:
    """The state URL for stored responses: a sibling file for SQLite, the same otherwise."""
    if state_url.startswith(SQLITE_PREFIX):
        path = state_url[len(SQLITE_PREFIX) :]
        if path != ":memory:":
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}.responses.{ext}" if dot and "/" not in ext else f"{path}.responses"
        return SQLITE_PREFIX + path
    return state_url if state_url != MEMORY_URL else MEMORY_URL


def split_images(scope: str, items: Iterable[Json]) -> tuple[list[Json], dict[str, bytes]]:
    """Items with image results taken out, and the results as `g:<scope>:<item id>` values
    ("<format>\\n<base64>": a copy, not a JSON encoding of megabytes)."""
    kept: list[Json] = []
    blobs: dict[str, bytes] = {}
    for item in items:
        if item.get("type") == "image_generation_call" and item.get("result") and item.get("id"):
            fmt = str(item.get("output_format") or "")
            blobs[f"g:{scope}:{item['id']}"] = f"{fmt}\n{item['result']}".encode("ascii")
            item = {**item, "result": None}
        kept.append(item)
    return kept, blobs


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response: Json  # the response object, image results included
    input: list[Json]  # the request's own input items, with ids


def _stored_shape(data: Json) -> bool:
    response = data.get("response")
    return (
        isinstance(response, dict)
        and isinstance(response.get("output") or [], list)
        and isinstance(data.get("input") or [], list)
    )


class ResponseStore:
    def __init__(self, store: TurnStore, ignored: IgnoredRecords | None = None) -> None:
        self.store = store
        # Records this release does not read: counted, answered as absent (protocol/schema.py).
        self.ignored = ignored or IgnoredRecords()

    async def secret(self, configured: str) -> bytes:
        """The envelope key: configured, or made once and kept in the store (so it survives
        restarts with SQLite state and is shared by every worker and replica on the same
        state). Put-if-absent: workers starting together on fresh state each offer a key and
        all keep the one stored first, so an envelope one signs opens on the others. Kept
        forever (no TTL, no eviction): aged out, the next worker to start would make another
        key while the running ones keep theirs, and their envelopes would stop opening."""
        if configured:
            return configured.encode()
        return await self.store.put_if_absent(SECRET_KEY, secrets.token_bytes(32), forever=True)

    async def put(self, scope: str, stored: StoredResponse) -> None:
        response = stored.response
        output, blobs = split_images(scope, response.get("output") or [])
        record = {"response": {**response, "output": output}, "input": stored.input}
        value = stored_json.dump(record, STORED_RESPONSE)
        await self.store.put_many({**blobs, f"r:{scope}:{response['id']}": value})

    async def put_images(self, blobs: dict[str, bytes]) -> None:
        """Image results split out by `split_images` (conversation items keep theirs here)."""
        if blobs:
            await self.store.put_many(blobs)

    async def get(self, scope: str, response_id: str) -> StoredResponse | None:
        raw = await self.store.get(f"r:{scope}:{response_id}")
        if raw is None or raw == TOMBSTONE:
            return None
        record = stored_json.load(raw, STORED_RESPONSE, _stored_shape)
        if not isinstance(record, dict):
            self.ignored("response", record)
            return None
        response = record["response"]
        response["output"] = await self.with_images(scope, response.get("output") or [])
        return StoredResponse(response, record.get("input") or [])

    async def with_images(self, scope: str, items: list[Json]) -> list[Json]:
        """`items` with each stored image_generation_call's result put back."""
        ids = [i["id"] for i in items if i.get("type") == "image_generation_call" and "id" in i]
        images = await self.images(scope, ids)
        return [{**i, **images[i["id"]]} if i.get("id") in images else i for i in items]

    async def delete(self, scope: str, response_id: str) -> bool:
        """Tombstones the response and the images it made: image ids are minted per response,
        so no other stored response holds them. A conversation the response was added to does
        hold them (same ids, same `g:` keys): then they stay, for as long as it lives."""
        raw = await self.store.get(f"r:{scope}:{response_id}")
        if raw is None or raw == TOMBSTONE:
            return False
        record = stored_json.load(raw, STORED_RESPONSE, _stored_shape)
        if not isinstance(record, dict):  # answered as absent, like `get`
            self.ignored("response", record)
            return False
        response = record["response"]
        gone = {f"r:{scope}:{response_id}": TOMBSTONE}
        if not response.get("conversation"):
            gone.update(
                {
                    f"g:{scope}:{item['id']}": TOMBSTONE
                    for item in response.get("output") or []
                    if item.get("type") == "image_generation_call" and item.get("id")
                }
            )
        await self.store.put_many(gone)
        return True

    async def images(self, scope: str, ids: Iterable[str]) -> dict[str, Json]:
        """Image results by item id: {"result", "output_format"}."""
        keys = {f"g:{scope}:{i}": i for i in ids}
        if not keys:
            return {}
        found = await self.store.get_many(list(keys))
        out: dict[str, Json] = {}
        for key, value in found.items():
            if value == TOMBSTONE:  # its response was deleted
                continue
            fmt, _, result = value.decode("ascii").partition("\n")
            out[keys[key]] = {"result": result, "output_format": fmt or None}
        return out

    async def chain(self, scope: str, response_id: str) -> Sequence[StoredResponse] | None:
        """The response and its ancestors, oldest first; None when any link is gone."""
        out: list[StoredResponse] = []
        current: str | None = response_id
        while current and len(out) < MAX_CHAIN:
            found = await self.get(scope, current)
            if found is None:
                return None
            out.append(found)
            current = found.response.get("previous_response_id")
        out.reverse()
        return out
