"""google-genai, unchanged but for its base URL, through the gateway's native routes on both
API versions: every call the SDK makes, the SDK's chat object over three image edits (the
emulator verifies every signature), and what the upstream sees of the client's key."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from google.genai import errors, types
from PIL import Image

from gateway.emulator.models import CATALOGUE
from tests.e2e.fidelity_helpers import band_count
from tests.e2e.native_stack import SERVER_KEY, NativeStack, native_stack

pytestmark = pytest.mark.slow
VERSIONS = ("v1beta", "v1")
TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-3-pro-image-preview"


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    with native_stack() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(stack: NativeStack) -> None:
    stack.emulator.reset()


def upstream_keys(stack: NativeStack) -> set[str | None]:
    return {r.headers.get("x-goog-api-key") for r in stack.emulator.requests}


@pytest.mark.parametrize("version", VERSIONS)
def test_generate_content_and_count_tokens(stack: NativeStack, version: str) -> None:
    client = stack.client(version)
    reply = client.models.generate_content(model=TEXT_MODEL, contents="hello gateway")
    assert reply.text == "Echo: hello gateway"
    assert reply.usage_metadata is not None and reply.usage_metadata.prompt_token_count
    counted = client.models.count_tokens(model=TEXT_MODEL, contents="hello gateway")
    assert counted.total_tokens == 4  # the emulator's ceil(chars / 4)
    paths = [r.path for r in stack.emulator.requests]
    # The gateway calls its own upstream version, whichever the client spoke.
    assert paths == [
        f"/v1beta/models/{TEXT_MODEL}:generateContent",
        f"/v1beta/models/{TEXT_MODEL}:countTokens",
    ]
    assert upstream_keys(stack) == {SERVER_KEY}
    assert all("key" not in r.query for r in stack.emulator.requests)


@pytest.mark.parametrize("version", VERSIONS)
def test_generate_content_stream_sync_and_async(stack: NativeStack, version: str) -> None:
    client = stack.client(version)
    direct = "".join(
        chunk.text or ""
        for chunk in client.models.generate_content_stream(
            model=TEXT_MODEL, contents="one two three"
        )
    )

    async def collect() -> list[types.GenerateContentResponse]:
        stream = await client.aio.models.generate_content_stream(
            model=TEXT_MODEL, contents="one two three"
        )
        return [chunk async for chunk in stream]

    chunks = asyncio.run(collect())
    assert direct == "Echo: one two three"
    assert len(chunks) > 1  # relayed event by event, not coalesced
    assert "".join(c.text or "" for c in chunks) == direct
    assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == "STOP"
    assert [r.query.get("alt") for r in stack.emulator.requests] == ["sse", "sse"]


@pytest.mark.parametrize("version", VERSIONS)
def test_models_list_and_get(stack: NativeStack, version: str) -> None:
    client = stack.client(version)
    names = [m.name for m in client.models.list(config={"page_size": 3})]
    assert f"models/{IMAGE_MODEL}" in names
    assert len(names) == len(set(names)) == len(CATALOGUE)  # the SDK's pager went page by page
    pages = [r.query for r in stack.emulator.requests if r.method == "models.list"]
    assert len(pages) == -(-len(CATALOGUE) // 3)
    assert pages[0] == {"pageSize": "3"}
    assert pages[1] == {"pageSize": "3", "pageToken": "3"}
    model = client.models.get(model=IMAGE_MODEL)
    assert model.name == f"models/{IMAGE_MODEL}"
    assert model.display_name == "Nano Banana Pro"
    assert model.input_token_limit == 65_536
    assert upstream_keys(stack) == {SERVER_KEY}


@pytest.mark.parametrize("version", VERSIONS)
def test_chat_object_edits_an_image_three_times(stack: NativeStack, version: str) -> None:
    """The seed's Scenario 1 with the SDK's chat object: each edit carries the whole history,
    and the emulator finds every signature it issued byte-exact (`ok`)."""
    client = stack.client(version)  # held: a collected client closes its connection pool
    chat = client.chats.create(model=IMAGE_MODEL)
    pngs = []
    for prompt in ("A cat on a sofa", "Make the sofa blue", "Add a hat"):
        reply = chat.send_message(prompt)
        parts = reply.candidates[0].content.parts if reply.candidates else None
        images = [p.inline_data.data for p in parts or [] if p.inline_data and p.inline_data.data]
        assert len(images) == 1
        with Image.open(io.BytesIO(images[0])) as image:
            assert image.format == "PNG"
        pngs.append(images[0])
        assert all(p.thought_signature for p in parts or [])
    assert [band_count(png) for png in pngs] == [0, 1, 2]
    # The SDK keeps signatures and images as bytes and writes them back in URL-safe base64:
    # the same bytes, which the emulator checks (`ok`) against what it issued.
    assert [r.verdicts for r in stack.emulator.requests] == [[], ["ok"] * 2, ["ok"] * 4]
    assert upstream_keys(stack) == {SERVER_KEY}


def test_upstream_error_before_the_first_event_keeps_its_status(stack: NativeStack) -> None:
    client = stack.client()
    stack.emulator.queue_fault("status", code=429, count=2)
    with pytest.raises(errors.ClientError) as unary:
        client.models.generate_content(model=TEXT_MODEL, contents="hi")
    assert unary.value.code == 429
    assert unary.value.status == "RESOURCE_EXHAUSTED"
    with pytest.raises(errors.ClientError) as streamed:
        list(client.models.generate_content_stream(model=TEXT_MODEL, contents="hi"))
    assert streamed.value.code == 429


def test_a_stream_cut_short_ends_with_a_google_error(stack: NativeStack) -> None:
    client = stack.client()
    stack.emulator.queue_fault("truncate")
    seen = []
    with pytest.raises(errors.APIError) as failed:
        for chunk in client.models.generate_content_stream(model=TEXT_MODEL, contents="a b c d"):
            seen.append(chunk)
    assert seen  # the events before the cut reached the client
    assert failed.value.code == 502
    assert "finishReason" in str(failed.value.message)


def test_keepalives_do_not_break_the_sdk(stack: NativeStack) -> None:
    """The first event comes late: the gateway commits to 200 and sends keep-alives, which
    google-genai must read as nothing (an SSE comment line would fail its parser)."""
    with native_stack(keepalive_interval=0.05) as quick:
        quick.emulator.queue_fault("slow_first", ms=400)
        client = quick.client()
        chunks = client.models.generate_content_stream(model=TEXT_MODEL, contents="late")
        text = "".join(c.text or "" for c in chunks)
    assert text == "Echo: late"


@pytest.mark.parametrize("fault", ["malformed", "truncate"])
def test_a_unary_answer_that_is_not_a_whole_json_object_is_a_google_502(
    stack: NativeStack, fault: str
) -> None:
    """Relayed unparsed, but not relayed as a 200 when it is plainly not one JSON object."""
    client = stack.client()
    stack.emulator.queue_fault(fault)
    with pytest.raises(errors.ServerError) as failed:
        client.models.generate_content(model=TEXT_MODEL, contents="a b c d")
    assert failed.value.code == 502 and failed.value.status == "UNAVAILABLE"
    assert "JSON" in str(failed.value.message)
