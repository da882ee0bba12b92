"""Conversations (`/v1/conversations`): a conversation object and its ordered items, on the
record store (state/records.py: scoped, TTL'd, atomic appends, cursor paging) under kind
"conversation", for GATEWAY_RESPONSES_MAX_AGE. Image results stay out of the records (they are
megabytes): they live with stored responses' images (state/responses.py, `g:` keys).

The conversation object and each item are versioned JSON (state/stored_json.py): one that this
release does not read is counted and left out (a 404 for the conversation, a gap in a list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from gateway.protocol.schema import CONVERSATION, Unread
from gateway.state import stored_json
from gateway.state.records import ItemPage, RecordStore
from gateway.state.responses import ResponseStore, split_images

Json = dict[str, Any]

KIND: Final = "conversation"
PAGE: Final = 500  # items read per round trip when a whole conversation is needed


class ConversationStore:
    def __init__(self, records: RecordStore, responses: ResponseStore, ttl: float) -> None:
        self.records = records
        self.responses = responses
        self.ttl = ttl

    async def create(self, scope: str, conversation: Json, items: Sequence[Json]) -> None:
        value = stored_json.dump(conversation, CONVERSATION)
        await self.records.put_record(scope, KIND, conversation["id"], value, self.ttl)
        if items:
            await self.append(scope, conversation["id"], items)

    async def get(self, scope: str, conv_id: str) -> Json | None:
        raw = await self.records.get_record(scope, KIND, conv_id)
        return None if raw is None else self._read("conversation", raw)

    async def update(self, scope: str, conv_id: str, metadata: Json) -> Json | None:
        conversation = await self.get(scope, conv_id)
        if conversation is None:
            return None
        conversation["metadata"] = metadata
        value = stored_json.dump(conversation, CONVERSATION)
        await self.records.put_record(scope, KIND, conv_id, value, self.ttl)
        return conversation

    async def delete(self, scope: str, conv_id: str) -> bool:
        return await self.records.delete_record(scope, KIND, conv_id)

    async def append(self, scope: str, conv_id: str, items: Sequence[Json]) -> bool:
        """False when the conversation is gone (nothing appended)."""
        if await self.records.get_record(scope, KIND, conv_id) is None:
            return False
        kept, blobs = split_images(scope, items)
        await self.responses.put_images(blobs)
        values = [(item["id"], stored_json.dump(item, CONVERSATION)) for item in kept]
        return await self.records.append_items(scope, KIND, conv_id, values, self.ttl)

    async def page(
        self, scope: str, conv_id: str, *, after: str | None, limit: int, descending: bool
    ) -> tuple[list[Json], bool] | None:
        found: ItemPage | None = await self.records.list_items(
            scope, KIND, conv_id, after=after, limit=limit, descending=descending
        )
        if found is None:
            return None
        read = (self._read("conversation_item", value) for _, value in found.items)
        items = [item for item in read if item is not None]
        return await self.responses.with_images(scope, items), found.has_more

    async def items(self, scope: str, conv_id: str) -> list[Json] | None:
        """Every item, oldest first; None when the conversation is gone."""
        out: list[Json] = []
        after: str | None = None
        while True:
            found = await self.records.list_items(
                scope, KIND, conv_id, after=after, limit=PAGE, descending=False
            )
            if found is None:
                return None
            read = (self._read("conversation_item", value) for _, value in found.items)
            out.extend(item for item in read if item is not None)
            if not found.has_more or not found.items:
                return await self.responses.with_images(scope, out)
            after = found.items[-1][0]  # the raw cursor: an item left out still moves it

    async def item(self, scope: str, conv_id: str, item_id: str) -> Json | None:
        raw = await self.records.get_item(scope, KIND, conv_id, item_id)
        found = None if raw is None else self._read("conversation_item", raw)
        if found is None:
            return None
        return (await self.responses.with_images(scope, [found]))[0]

    def _read(self, kind: str, raw: bytes) -> Json | None:
        found = stored_json.load(raw, CONVERSATION, stored_json.has_id)
        if isinstance(found, Unread):
            self.responses.ignored(kind, found)
            return None
        return found

    async def delete_item(self, scope: str, conv_id: str, item_id: str) -> Json | None:
        """The conversation (OpenAI answers a deleted item with it), or None when absent."""
        if not await self.records.delete_item(scope, KIND, conv_id, item_id):
            return None
        return await self.get(scope, conv_id)
