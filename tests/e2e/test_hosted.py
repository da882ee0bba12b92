"""Hosted images end to end (issue #5), with the real OpenAI client: generated images come back
as short `{public_url}/v1/files/<id>` links, so the client's requests stay small however big the
images are, while Gemini still gets every image inline with its signature on every turn.

The emulator's own images are tiny, so an ImageInflater (tests/budget/image_inflater.py) swaps
them for 384x384 noise PNGs (~440 KB each) on the way out and back on the way in."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest
from budget.image_inflater import InflatedStack, inflated_stack, noisy

pytestmark = pytest.mark.anyio

MODEL = "gemini-3-pro-image-preview"
PROMPTS = ("a red fox in the snow", "make it night time", "add a full moon", "paint it in ink")
PUBLIC_URL = "http://gateway"
BIG = noisy(384)
SMALL_REQUEST = 10_000


def sent_back(message: Any, pattern: str) -> Any:
    if pattern == "sdk_object":
        return message
    return {"role": "assistant", "content": message.content}


async def converse(stack: InflatedStack, pattern: str) -> list[Any]:
    client = stack.openai()
    messages: list[Any] = []
    replies = []
    for prompt in PROMPTS:
        messages.append({"role": "user", "content": prompt})
        reply = await client.chat.completions.create(model=MODEL, messages=messages)
        message = reply.choices[0].message
        replies.append(message)
        messages.append(sent_back(message, pattern))
    return replies


def model_turns(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in body["contents"] if c["role"] == "model"]


@pytest.mark.parametrize("pattern", ["sdk_object", "content_only"])
async def test_hosted_conversation_stays_small_and_faithful(pattern: str) -> None:
    async with inflated_stack(BIG, public_url=PUBLIC_URL) as stack:
        replies = await converse(stack, pattern)
        emulator, inflater = stack.emulator, stack.inflater

        # The client only ever carries links: every request is small although each image is big.
        image_sizes = [len(big) for big in inflater.big_of.values()]
        assert len(image_sizes) == len(PROMPTS)
        assert min(image_sizes) > 400_000
        assert len(stack.request_sizes) == len(PROMPTS)
        assert max(stack.request_sizes) < SMALL_REQUEST
        for reply in replies:
            url = reply.images[0]["image_url"]["url"]
            assert url.startswith(f"{PUBLIC_URL}/v1/files/") and url.endswith(".png")
            assert url in reply.content

        # Gemini still got every earlier image inline, big, with its signature: the emulator
        # (which sees its own small images again) verified each one and saw its own turns back.
        last_sent = model_turns(inflater.sent[-1])
        assert len(last_sent) == len(PROMPTS) - 1
        for turn in last_sent:
            images = [p for p in turn["parts"] if "inlineData" in p]
            assert len(images) == 1 and images[0]["inlineData"]["data"] in inflater.small_of
            assert all("thoughtSignature" in p for p in turn["parts"])
        assert model_turns(emulator.requests[-1].body) == emulator.issued[: len(PROMPTS) - 1]
        for n, verdicts in enumerate(emulator.verdicts):
            assert verdicts == ["ok"] * (2 * n)  # a signed text and a signed image per turn

        # Each link serves the image's bytes, typed and cacheable.
        async with stack.http() as http:
            for reply in replies:
                url = reply.images[0]["image_url"]["url"]
                got = await http.get(url)
                assert got.status_code == 200
                assert got.headers["content-type"] == "image/png"
                assert got.headers["cache-control"] == "private, max-age=604800"  # the store's
                assert got.content.startswith(b"\x89PNG")
                assert base64.b64encode(got.content).decode() in inflater.small_of


async def test_the_same_conversation_inline_is_what_hosting_saves() -> None:
    """The comparison that gives the size bound its meaning: without a public URL the client
    carries every earlier image back on every turn."""
    async with inflated_stack(BIG) as stack:
        await converse(stack, "sdk_object")
        image = min(len(big) for big in stack.inflater.big_of.values())
        assert stack.request_sizes[-1] > (len(PROMPTS) - 1) * image
        assert stack.request_sizes[-1] > 100 * SMALL_REQUEST


def forbid_fetching(stack: InflatedStack, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to fetch a URL over the network is recorded (and fails the request)."""
    attempts: list[str] = []

    async def fetch(url: str, **kwargs: Any) -> Any:
        attempts.append(url)
        raise AssertionError("a hosted URL must never be fetched")

    monkeypatch.setattr(stack.app.state.services.fetcher, "fetch", fetch)
    return attempts


async def _first_turn(stack: InflatedStack) -> Any:
    reply = await stack.openai().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": PROMPTS[0]}]
    )
    return reply.choices[0].message


@pytest.mark.parametrize("pattern", ["sdk_object", "content_only"])
async def test_a_link_the_gateway_no_longer_knows_is_a_400(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another gateway (or this one after a restart with memory state) has no such image: a
    clear 400 naming the image, never a network fetch of our own URL and never a 500."""
    async with inflated_stack(BIG, public_url=PUBLIC_URL) as first:
        message = await _first_turn(first)
    async with inflated_stack(BIG, public_url=PUBLIC_URL) as second:
        fetched = forbid_fetching(second, monkeypatch)
        messages = [
            {"role": "user", "content": PROMPTS[0]},
            sent_back(message, pattern),
            {"role": "user", "content": PROMPTS[1]},
        ]
        with pytest.raises(openai.BadRequestError) as caught:
            await second.openai().chat.completions.create(model=MODEL, messages=messages)
        error = caught.value.body
        assert isinstance(error, dict)
        assert error["code"] == "invalid_image_url"
        assert "messages[1]" in error["param"]
        assert "expired" in error["message"]
        assert second.emulator.requests == [] and fetched == []


@pytest.mark.parametrize(
    "name", ["0123456789abcdef0123456789abcdef.png", "not-a-hosted-name.png", "../../etc/passwd"]
)
async def test_unknown_hosted_names_in_a_user_message(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inflated_stack(BIG, public_url=PUBLIC_URL) as stack:
        fetched = forbid_fetching(stack, monkeypatch)
        url = f"{PUBLIC_URL}/v1/files/{name}"
        content = [
            {"type": "text", "text": "edit this"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        with pytest.raises(openai.BadRequestError) as caught:
            await stack.openai().chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": content}]
            )
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["code"] == "invalid_image_url"
        assert caught.value.body["param"] == "messages[0].content[1].image_url.url"
        assert stack.emulator.requests == [] and fetched == []
        async with stack.http() as http:
            got = await http.get(f"/v1/files/{name}")
        assert got.status_code == 404
