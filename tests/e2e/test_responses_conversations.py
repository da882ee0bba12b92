"""The Conversations API with the real openai SDK, and `conversation=` in responses.create:
earlier items prepended, the turn's input and output appended; a 3-turn image edit by
conversation stays faithful; previous_response_id together with conversation is a 400."""

from __future__ import annotations

import openai
import pytest
from openai.types.conversations import Conversation, ConversationItemList

from tests.conftest import Stack
from tests.e2e.fidelity_helpers import EDIT_PROMPTS, IMAGE_MODELS, assert_faithful, turn_sources
from tests.e2e.fidelity_helpers import metrics as read_metrics

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
TEXT_MODEL = "gemini-3-flash-preview"


async def test_conversation_crud_and_items(stack: Stack):
    client = stack.openai()
    conv = await client.conversations.create(
        metadata={"topic": "foxes"}, items=[{"role": "user", "content": "hello"}]
    )
    Conversation.model_validate(conv.model_dump())
    assert (await client.conversations.retrieve(conv.id)).metadata == {"topic": "foxes"}
    updated = await client.conversations.update(conv.id, metadata={"topic": "owls"})
    assert updated.metadata == {"topic": "owls"}

    added = await client.conversations.items.create(
        conv.id, items=[{"role": "user", "content": "two"}, {"role": "user", "content": "three"}]
    )
    assert [i.content[0].text for i in added.data] == ["two", "three"]
    listed = await client.conversations.items.list(conv.id, order="asc")
    ConversationItemList.model_validate(listed.model_dump())
    texts = [i.content[0].text for i in listed.data]
    assert texts == ["hello", "two", "three"]
    newest = await client.conversations.items.list(conv.id, limit=1)
    assert newest.data[0].content[0].text == "three" and newest.has_more
    one = await client.conversations.items.retrieve(listed.data[1].id, conversation_id=conv.id)
    assert one.content[0].text == "two"
    await client.conversations.items.delete(listed.data[1].id, conversation_id=conv.id)
    left = await client.conversations.items.list(conv.id, order="asc")
    assert [i.content[0].text for i in left.data] == ["hello", "three"]

    deleted = await client.conversations.delete(conv.id)
    assert deleted.deleted
    with pytest.raises(openai.NotFoundError):
        await client.conversations.retrieve(conv.id)
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(model=TEXT_MODEL, input="x", conversation=conv.id)
    assert stack.emulator.requests == []


async def test_conversations_belong_to_their_credential(stack: Stack):
    conv = await stack.openai(api_key="key-one").conversations.create()
    with pytest.raises(openai.NotFoundError):
        await stack.openai(api_key="key-two").conversations.retrieve(conv.id)


async def test_responses_in_a_conversation_prepend_and_append(stack: Stack):
    client = stack.openai()
    conv = await client.conversations.create(items=[{"role": "user", "content": "first"}])
    response = await client.responses.create(model=TEXT_MODEL, input="second", conversation=conv.id)
    assert response.conversation.id == conv.id
    users = [
        p["text"]
        for c in stack.upstream_bodies()[-1]["contents"]
        if c["role"] == "user"
        for p in c["parts"]
    ]
    assert users == ["first", "second"]
    items = await client.conversations.items.list(conv.id, order="asc")
    assert [i.type for i in items.data] == ["message", "message", "reasoning", "message"]
    with pytest.raises(openai.BadRequestError):
        await client.responses.create(
            model=TEXT_MODEL, input="x", conversation=conv.id, previous_response_id=response.id
        )


async def test_three_turn_image_edit_by_conversation(stack: Stack):
    client = stack.openai()
    conv = await client.conversations.create()
    for prompt in EDIT_PROMPTS:
        await client.responses.create(
            model=MODEL, input=prompt, conversation=conv.id, tools=[{"type": "image_generation"}]
        )
        assert_faithful(stack.emulator)
    assert len([c for c in stack.upstream_bodies()[-1]["contents"] if c["role"] == "model"]) == 2
    assert turn_sources(await read_metrics(stack)) == {}
