"""Conversations (`/v1/conversations`): a conversation object and its ordered items, on the
record store (state/records.py: scoped, TTL'd, atomic appends, cursor paging) under kind
"conversation", for GATEWAY_RESPONSES_MAX_AGE. Image results stay out of the records (they are
megabytes): they live with stored responses' images (state/responses.py, `g:` keys)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson

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
        value = orjson.dumps(conversation)
        await self.records.put_record(scope, KIND, conversation["id"], value, self.ttl)
        if items:
            await self.append(scope, conversation["id"], items)

    async def get(self, scope: str, conv_id: str) -> Json | None:
        raw = await self.records.get_record(scope, KIND, conv_id)
        return None if raw is None else dict(orjson.loads(raw))

    async def update(self, scope: str, conv_id: str, metadata: Json) -> Json | None:
        conversation = await self.get(scope, conv_id)
        if conversation is None:
            return None
        conversation["metadata"] = metadata
        await self.records.put_record(scope, KIND, conv_id, orjson.dumps(conversation), self.ttl)
        return conversation

    async def delete(self, scope: str, conv_id: str) -> bool:
        return await self.records.delete_record(scope, KIND, conv_id)

    async def append(self, scope: str, conv_id: str, items: Sequence[Json]) -> bool:
        """False when the conversation is gone (nothing appended)."""
        if await self.records.get_record(scope, KIND, conv_id) is None:
            return False
        kept, blobs = split_images(scope, items)
        await self.responses.put_images(blobs)
        values = [(item["id"], orjson.dumps(item)) for item in kept]
        return await self.records.append_items(scope, KIND, conv_id, values, self.ttl)

    async def page(
        self, scope: str, conv_id: str, *, after: str | None, limit: int, descending: bool
    ) -> tuple[list[Json], bool] | None:
        found: ItemPage | None = await self.records.list_items(
            scope, KIND, conv_id, after=after, limit=limit, descending=descending
        )
        if found is None:
            return None
        items = [orjson.loads(value) for _, value in found.items]
        return await self.responses.with_images(scope, items), found.has_more

    async def items(self, scope: str, conv_id: str) -> list[Json] | None:
        """Every item, oldest first; None when the conversation is gone."""
        out: list[Json] = []
        after: str | None = None
        while True:
            found = await self.page(scope, conv_id, after=after, limit=PAGE, descending=False)
            if found is None:
                return None
            out.extend(found[0])
            if not found[1] or not found[0]:
                return out
            after = found[0][-1]["id"]

    async def item(self, scope: str, conv_id: str, item_id: str) -> Json | None:
        raw = await self.records.get_item(scope, KIND, conv_id, item_id)
        if raw is None:
            return None
        return (await self.responses.with_images(scope, [orjson.loads(raw)]))[0]

    async def delete_item(self, scope: str, conv_id: str, item_id: str) -> Json | None:
        """The conversation (OpenAI answers a deleted item with it), or None when absent."""
        if not await self.records.delete_item(scope, KIND, conv_id, item_id):
            return None
        return await self.get(scope, conv_id)
