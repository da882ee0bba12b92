"""Token usage metrics: what the real OpenAI SDK is told (chat unary and stream, Responses,
Images) and what google-genai reads on the native routes is what /metrics counts, by model; garbage usage from Gemini is skipped, not a 500.
And docs/metrics.md names every metric gateway/metrics.py registers (it cannot drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import Metrics
from tests.conftest import ROOT
from tests.e2e.native_stack import CLIENT_KEY, native_stack

pytestmark = pytest.mark.anyio

CHAT_MODEL = "gemini-2.5-flash"  # thinks by default on the emulator
IMAGE_MODEL = "gemini-3-pro-image-preview"


def tokens(text: str, model: str) -> dict[str, float]:
    """gateway_tokens_total by kind for one model, from the exposition text."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gateway_tokens_total" and sample.labels["model"] == model:
                found[sample.labels["kind"]] = sample.value
    return found


async def scrape(stack: Any) -> str:
    async with stack.http() as http:
        return str((await http.get("/metrics")).text)


async def test_chat_unary_and_stream_tokens_are_counted_by_model(stack: Any) -> None:
    client = stack.openai()
    messages = [{"role": "user", "content": "think about owls"}]
    reply = await client.chat.completions.create(model=CHAT_MODEL, messages=messages)
    stream = await client.chat.completions.create(
        model=CHAT_MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    streamed = [chunk.usage async for chunk in stream if chunk.usage is not None]
    usages = [reply.usage, *streamed]
    assert len(usages) == 2
    reasoning = sum(u.completion_tokens_details.reasoning_tokens for u in usages)
    assert reasoning > 0
    assert tokens(await scrape(stack), CHAT_MODEL) == {
        "prompt": sum(u.prompt_tokens for u in usages),
        "completion": sum(u.completion_tokens for u in usages),
        "reasoning": reasoning,
    }


async def test_responses_api_tokens_are_counted(stack: Any) -> None:
    created = await stack.openai().responses.create(model=CHAT_MODEL, input="hello there")
    usage = created.usage
    counted = tokens(await scrape(stack), CHAT_MODEL)
    assert counted["prompt"] == usage.input_tokens
    assert counted["completion"] == usage.output_tokens
    assert counted["reasoning"] == usage.output_tokens_details.reasoning_tokens


async def test_images_api_counts_image_tokens_over_every_call(stack: Any) -> None:
    result = await stack.openai().images.generate(model=IMAGE_MODEL, prompt="two owls", n=2)
    counted = tokens(await scrape(stack), IMAGE_MODEL)
    assert counted["image"] == result.usage.output_tokens_details.image_tokens > 0
    assert counted["prompt"] == result.usage.input_tokens


def test_unreadable_usage_is_skipped_and_the_rest_counted() -> None:
    metrics = Metrics()
    good = {"promptTokenCount": 7, "candidatesTokenCount": 3, "thoughtsTokenCount": 2}
    metrics.usage("m", [{"promptTokenCount": "lots"}, "junk", {}, good])
    assert tokens(metrics.render().decode(), "m") == {
        "prompt": 7.0,
        "completion": 5.0,
        "reasoning": 2.0,
    }


def test_every_registered_metric_is_in_the_metrics_reference() -> None:
    doc = Path(ROOT, "docs", "metrics.md").read_text(encoding="utf-8")
    names = {family.name for family in Metrics().registry.collect()}
    assert len(names) > 10
    missing = sorted(n for n in names if f"`{n}" not in doc)
    assert missing == []


def test_native_generate_content_tokens_are_counted_unary_and_streamed() -> None:
    """The native routes relay Gemini's answers unparsed; the counter still moves with the
    usageMetadata google-genai reads (unary, and a stream's last running totals)."""
    with native_stack() as running:
        client = running.client()
        reply = client.models.generate_content(model=CHAT_MODEL, contents="think about owls")
        events = list(client.models.generate_content_stream(model=CHAT_MODEL, contents="owls"))
        metas = [reply.usage_metadata, events[-1].usage_metadata]
        assert all(m is not None and m.thoughts_token_count for m in metas)
        headers = {"authorization": f"Bearer {CLIENT_KEY}"}
        text = httpx.get(f"{running.url}/metrics", headers=headers, trust_env=False).text
    prompt = sum(m.prompt_token_count or 0 for m in metas if m is not None)
    thoughts = sum(m.thoughts_token_count or 0 for m in metas if m is not None)
    output = sum(m.candidates_token_count or 0 for m in metas if m is not None)
    assert tokens(text, CHAT_MODEL) == {
        "prompt": prompt,
        "completion": output + thoughts,
        "reasoning": thoughts,
    }
