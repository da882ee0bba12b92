"""The history budget end to end with the real OpenAI client: a 12-turn image-editing
conversation over a (configured, small) token limit is trimmed and/or has its older images
shrunk; the turns kept are exactly what the emulator issued with every signature verified, and
the response header and the log line say what was done.

Images are 1024x1024 (ImageInflater over the emulator's 64 px ones), 1032 tokens each by the
estimate, so a few thousand tokens hold only a few turns."""

from __future__ import annotations

import logging
from typing import Any

import openai
import pytest
from budget.image_inflater import InflatedStack, inflated_stack, upscaled

from gateway.media import downsample
from gateway.translate.signatures import DUMMY_SIGNATURE
from gateway.translate.token_estimate import estimate_tokens, image_size

pytestmark = pytest.mark.anyio

MODEL = "gemini-3-pro-image-preview"
TURNS = 12
LIMIT = 6_000
BIG = upscaled(1024)


def prompt(n: int) -> str:
    return f"edit {n}: make the fox {['redder', 'bigger', 'calmer', 'sleepier'][n % 4]}"


async def converse(
    stack: InflatedStack, pattern: str = "sdk_object", **extra: Any
) -> list[dict[str, str]]:
    """TURNS requests, each sending the whole conversation back; returns each reply's headers."""
    client = stack.openai()
    messages: list[Any] = []
    headers = []
    for n in range(TURNS):
        messages.append({"role": "user", "content": prompt(n)})
        raw = await client.chat.completions.with_raw_response.create(
            model=MODEL, messages=messages, **extra
        )
        headers.append(dict(raw.headers))
        message = raw.parse().choices[0].message
        sent = (
            message
            if pattern == "sdk_object"
            else {"role": "assistant", "content": message.content}
        )
        messages.append(sent)
    return headers


def model_turns(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in body["contents"] if c["role"] == "model"]


def user_texts(body: dict[str, Any]) -> list[str]:
    return [c["parts"][0]["text"] for c in body["contents"] if c["role"] == "user"]


def budget_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.serving" and "history budget" in r.msg]


@pytest.mark.parametrize(
    ("pattern", "public_url"), [("sdk_object", ""), ("content_only", "http://gateway")]
)
async def test_a_long_conversation_is_trimmed_to_the_limit(
    pattern: str, public_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.serving")
    async with inflated_stack(
        BIG, public_url=public_url, history_budget="trim", history_max_tokens=LIMIT
    ) as stack:
        headers = await converse(stack, pattern)
        emulator, sent = stack.emulator, stack.inflater.sent

        # Early turns fit; later ones are cut to what fits, the newest turn always first-class.
        trimmed = [int(h["x-gateway-history"].split(";")[0].split("=")[1]) for h in headers]
        assert trimmed[:3] == [0, 0, 0] and trimmed[-1] > 0
        assert all(h["x-gateway-history"].endswith(";downsampled=0") for h in headers)
        for n, body in enumerate(sent):
            kept = len(model_turns(body))
            assert trimmed[n] == n - kept
            assert estimate_tokens(body, MODEL) <= LIMIT
            if trimmed[n]:  # one more turn would not have fitted
                assert estimate_tokens(body, MODEL) + 10 + 1032 > LIMIT
            # Whole turns from the front: the user prompts kept are the newest ones, in order.
            assert user_texts(body) == [prompt(k) for k in range(n - kept, n + 1)]
            # The kept model turns are exactly what the emulator issued, every signature ok.
            received = emulator.requests[n].body
            assert model_turns(received) == emulator.issued[n - kept : n]
            assert emulator.requests[n].verdicts == ["ok"] * (2 * kept)

        lines = budget_lines(caplog)
        assert len(lines) == TURNS
        # info when the budget changed the history, debug when it only measured
        levels = [line.levelno for line in lines]
        assert levels == [logging.INFO if t else logging.DEBUG for t in trimmed]
        last = lines[-1].__dict__
        assert last["trimmed_turns"] == trimmed[-1]
        assert last["tokens_after"] <= last["token_limit"] == LIMIT < last["tokens_before"]
        assert last["mode"] == "trim"


async def test_trim_and_downsample_shrinks_older_images_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.serving")
    async with inflated_stack(
        BIG, history_budget="trim+downsample", history_max_tokens=LIMIT
    ) as stack:
        headers = await converse(stack)
        emulator, inflater = stack.emulator, stack.inflater
        last = headers[-1]["x-gateway-history"]
        trimmed, downsampled = (int(item.split("=")[1]) for item in last.split(";"))
        assert downsampled > 0

        body = inflater.sent[-1]
        turns = model_turns(body)
        assert len(turns) == TURNS - 1 - trimmed
        sizes = [image_size(t["parts"][1]["inlineData"]["data"]) for t in turns]
        # The oldest images halved, only as many as needed; the newest (the picture being
        # edited) untouched.
        kept_whole = len(sizes) - downsampled
        assert sizes == [(512, 512)] * downsampled + [(1024, 1024)] * kept_whole
        assert kept_whole >= 1
        for turn, size in zip(turns, sizes, strict=True):
            text, image = turn["parts"]
            assert text["thoughtSignature"] != DUMMY_SIGNATURE  # texts keep their own
            if size == (512, 512):
                # Not the part Gemini signed any more: the documented dummy, never the old one.
                assert image["thoughtSignature"] == DUMMY_SIGNATURE
            else:
                assert image["inlineData"]["data"] in inflater.small_of
        verdicts = emulator.requests[-1].verdicts
        assert verdicts.count("dummy") == downsampled
        assert verdicts.count("ok") == 2 * len(turns) - downsampled
        assert estimate_tokens(body, MODEL) <= LIMIT
        # Shrinking first keeps more turns than trimming alone would.
        assert trimmed < TURNS - 1 - (LIMIT // 1042)

        line = budget_lines(caplog)[-1].__dict__
        assert (line["trimmed_turns"], line["downsampled_images"]) == (trimmed, downsampled)
        assert line["mode"] == "trim+downsample"
        async with stack.http() as http:
            metrics = (await http.get("/metrics")).text
        assert 'gateway_signature_fallbacks_total{kind="downsampled_image"}' in metrics


async def test_without_pillow_the_header_says_so_and_trimming_still_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(downsample, "AVAILABLE", False)
    caplog.set_level(logging.INFO, logger="gateway.serving")
    async with inflated_stack(
        BIG, history_budget="trim+downsample", history_max_tokens=LIMIT
    ) as stack:
        headers = await converse(stack)
        assert headers[-1]["x-gateway-history"].endswith(";downsampled=0;downsample=unavailable")
        assert not headers[-1]["x-gateway-history"].startswith("trimmed=0;")
        assert all(v == "ok" for v in stack.emulator.requests[-1].verdicts)
        assert budget_lines(caplog)[-1].levelno == logging.WARNING


async def test_the_newest_turn_alone_over_the_limit_is_sent_and_flagged() -> None:
    async with inflated_stack(BIG, history_budget="trim", history_max_tokens=5) as stack:
        headers = await converse(stack)
        assert headers[-1]["x-gateway-history"] == f"trimmed={TURNS - 1};downsampled=0;over_budget"
        assert len(stack.emulator.requests[-1].body["contents"]) == 1


async def test_off_by_default_and_asked_for_per_request() -> None:
    async with inflated_stack(BIG) as stack:
        headers = await converse(stack)
        assert all("x-gateway-history" not in h for h in headers)
        assert len(model_turns(stack.inflater.sent[-1])) == TURNS - 1

    async with inflated_stack(BIG) as stack:
        google = {"history_budget": "trim", "history_keep_turns": 2}
        headers = await converse(stack, extra_body={"google": google})
        assert headers[-1]["x-gateway-history"] == f"trimmed={TURNS - 3};downsampled=0"
        assert model_turns(stack.emulator.requests[-1].body) == stack.emulator.issued[-3:-1]


async def test_a_streamed_reply_carries_the_header_too() -> None:
    async with inflated_stack(BIG, history_budget="trim", history_keep_turns=1) as stack:
        await converse(stack)
        messages = [{"role": "user", "content": "a fox"}, {"role": "assistant", "content": "ok"}]
        messages += [{"role": "user", "content": "again"}]
        async with stack.http() as http:
            async with http.stream(
                "POST",
                "/v1/chat/completions",
                json={"model": MODEL, "messages": messages, "stream": True},
            ) as reply:
                assert reply.status_code == 200
                assert reply.headers["x-gateway-history"] == "trimmed=0;downsampled=0"
                assert b"[DONE]" in await reply.aread()


async def test_a_bad_budget_option_is_a_400_before_any_upstream_call() -> None:
    async with inflated_stack(BIG) as stack:
        with pytest.raises(openai.BadRequestError) as caught:
            await stack.openai().chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "a fox"}],
                extra_body={"google": {"history_budget": "compress"}},
            )
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["param"] == "google.history_budget"
        assert stack.emulator.requests == []


async def test_downsample_alone_without_pillow_falls_back_to_trimming_and_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented fallback (media/downsample.py): a budget mode meets the budget. Before,
    the whole over-budget conversation went up (`downsample=unavailable;over_budget`)."""
    monkeypatch.setattr(downsample, "AVAILABLE", False)
    async with inflated_stack(BIG, history_budget="downsample", history_max_tokens=LIMIT) as stack:
        headers = await converse(stack)
        value = headers[-1]["x-gateway-history"]
        assert value.endswith(";downsampled=0;downsample=unavailable"), value
        assert not value.startswith("trimmed=0;")
        assert estimate_tokens(stack.inflater.sent[-1], MODEL) <= LIMIT
        assert all(v == "ok" for v in stack.emulator.requests[-1].verdicts)
