"""The benchmark's verification step: one request per scenario, every answer checked in full
(shape, text, image bytes, signature, SSE events), plus proof that the request reached the fake
upstream exactly once with the images passed through unchanged. Also the per-response checks
(`Expect`) the load generators apply to every response under load.

What "events" means for streams: an upstream event is one `data:` line from the fake (20 by
default). On the gateway side an event is a `chat.completion.chunk` whose choice carries
content, reasoning, tool calls, images or a finish_reason; the framing around them — a role-only
first delta, a usage-only chunk (`choices: []`) and `data: [DONE]` — is counted apart. A
faithful gateway sends exactly one event per upstream event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson

from bench.load import Expect
from bench.payloads import EDIT_PROMPT, IMAGE_PROMPT, PROMPT, Canned, Scenario, responses_twin
from bench.responses_checks import check_responses_reply, responses_expect

CHAT_PATH = "/v1/chat/completions"


class Upstream(Protocol):
    async def hits(self) -> int: ...
    async def record(self) -> None: ...
    async def last_body(self) -> bytes: ...


class LoopbackUpstream:
    """The fake upstream's control routes, over loopback."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def hits(self) -> int:
        return int((await self.client.get("/bench/stats")).json()["hits"])

    async def record(self) -> None:
        await self.client.post("/bench/record")

    async def last_body(self) -> bytes:
        return (await self.client.get("/bench/last")).content


class InProcessUpstream:
    """The same controls on a FakeGemini object in this process (the smoke test)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    async def hits(self) -> int:
        return int(self.fake.hits)

    async def record(self) -> None:
        self.fake.recording, self.fake.last_body = True, b""

    async def last_body(self) -> bytes:
        return bytes(self.fake.last_body)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    detail: str


def sse_data(body: bytes) -> list[bytes]:
    return [line[5:].strip() for line in body.split(b"\n") if line.startswith(b"data:")]


@dataclass(frozen=True, slots=True)
class StreamCount:
    events: int
    framing: int
    content: str
    finish: str | None
    done: bool


def count_stream(body: bytes) -> StreamCount:
    """Events vs framing, as defined in the module docstring."""
    events = framing = 0
    content: list[str] = []
    finish = None
    done = False
    for data in sse_data(body):
        if data == b"[DONE]":
            done, framing = True, framing + 1
            continue
        chunk = orjson.loads(data)
        carries = False
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            finish = choice.get("finish_reason") or finish
            keys = {"content", "reasoning_content", "tool_calls", "images"}
            carries = (
                carries or any(delta.get(k) for k in keys) or bool(choice.get("finish_reason"))
            )
        if carries:
            events += 1
        else:
            framing += 1
    return StreamCount(events, framing, "".join(content), finish, done)


def _message(body: bytes) -> dict[str, Any]:
    data = orjson.loads(body)
    choice = data["choices"][0]
    return {
        **choice["message"],
        "_finish": choice.get("finish_reason"),
        "_usage": data.get("usage"),
    }


def _image_signature(image: dict[str, Any]) -> str | None:
    google = (image.get("extra_content") or {}).get("google") or {}
    value = google.get("thought_signature")
    return value if isinstance(value, str) else None


def _check_reply(name: str, body: bytes, canned: Canned, strict: bool) -> list[str]:
    """Problems with a gateway's answer to scenario `name` (empty: it is right)."""
    name, twin = responses_twin(name)
    if twin:
        return check_responses_reply(name, body, canned, strict)
    problems: list[str] = []
    if name == "stream":
        got = count_stream(body)
        want = "".join(canned.stream_texts)
        if got.content != want:
            problems.append("streamed content differs from the upstream's")
        if got.finish != "stop" or not got.done:
            problems.append(f"finish={got.finish} done={got.done}")
        if strict and got.events != canned.config.sse_events:
            problems.append(f"events out {got.events} != events in {canned.config.sse_events}")
        return problems
    message = _message(body)
    if message["_finish"] != "stop":
        problems.append(f"finish_reason={message['_finish']}")
    if name == "imgout":
        images = message.get("images") or []
        url = images[0].get("image_url", {}).get("url") if images else None
        if url != f"data:image/png;base64,{canned.png_b64}":
            problems.append("the image is missing or its bytes differ")
        if strict and images and _image_signature(images[0]) != canned.image_sig:
            problems.append("the image's thought signature is missing or differs")
        if canned.image_text not in (message.get("content") or ""):
            problems.append("the text part is missing")
    elif message.get("content") != canned.text:
        problems.append("content differs from the upstream's text")
    want_tokens = canned.usage(name == "imgout")["totalTokenCount"]
    if strict and (message["_usage"] or {}).get("total_tokens") != want_tokens:
        problems.append("usage.total_tokens differs")
    return problems


def _check_upstream_body(scenario: Scenario, raw: bytes) -> list[str]:
    """What the gateway sent upstream: the prompt, and every image byte-identical."""
    try:
        parts = orjson.loads(raw)["contents"][-1]["parts"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return ["the upstream body is not a Gemini request"]
    texts = [p.get("text") for p in parts if "text" in p]
    blobs = [p.get("inlineData") or p.get("inline_data") for p in parts]  # both are valid JSON
    datas = [blob.get("data") for blob in blobs if isinstance(blob, dict)]
    kind = scenario.base or scenario.name
    prompt = {"img4": EDIT_PROMPT, "imgout": IMAGE_PROMPT}.get(kind, PROMPT)
    problems = [] if prompt in texts else ["the prompt did not reach the upstream"]
    if tuple(datas) != scenario.images_in:
        problems.append(f"{len(datas)} images reached the upstream, not byte-identical")
    return problems


async def verify_gateway(
    client: httpx.AsyncClient,
    upstream: Upstream,
    scenarios: dict[str, Scenario],
    canned: Canned,
    strict: bool = True,
) -> dict[str, Verdict]:
    """One request per scenario through the gateway; `strict` adds the fidelity checks
    (signatures, exact event count, usage) that only this project promises."""
    verdicts: dict[str, Verdict] = {}
    for name, scenario in scenarios.items():
        before = await upstream.hits()
        await upstream.record()
        response = await client.post(
            scenario.path,
            content=scenario.openai_body,
            headers={"content-type": "application/json"},
        )
        hits = await upstream.hits() - before  # control routes are not counted
        problems = [] if response.status_code == 200 else [f"status {response.status_code}"]
        if not problems:
            problems += _check_reply(name, response.content, canned, strict)
            problems += _check_upstream_body(scenario, await upstream.last_body())
        if hits != 1:
            problems.append(f"upstream hits {hits}")
        detail = f"status={response.status_code} bytes={len(response.content)} upstream_hits={hits}"
        verdicts[name] = Verdict(not problems, "; ".join([detail, *problems]))
    return verdicts


async def verify_direct(
    client: httpx.AsyncClient, upstream: Upstream, scenarios: dict[str, Scenario], canned: Canned
) -> dict[str, Verdict]:
    """The floor answers what the fake is configured to answer (so the floor is honest too)."""
    verdicts: dict[str, Verdict] = {}
    for name, scenario in scenarios.items():
        before = await upstream.hits()
        response = await client.post(scenario.gemini_path, content=scenario.gemini_body)
        hits = await upstream.hits() - before
        if scenario.streaming:
            ok = len(sse_data(response.content)) == canned.config.sse_events
        else:
            want = canned.unary_image if responses_twin(name)[0] == "imgout" else canned.unary_text
            ok = response.content == want
        ok = ok and response.status_code == 200 and hits == 1
        verdicts[name] = Verdict(ok, f"status={response.status_code} upstream_hits={hits}")
    return verdicts


def load_expect(name: str, canned: Canned, target: str, strict: bool) -> Expect:
    """The per-response check under load, for `target` "direct" or a gateway. It is cheap (no
    JSON parsing) but a truncated, empty or foreign answer fails it."""
    text = canned.text.encode()
    png_head, png_tail = canned.png_b64[:64].encode(), canned.png_b64[-64:].encode()
    name, twin = responses_twin(name)
    if twin and target != "direct":
        return responses_expect(name, canned, strict)
    if target == "direct":
        if name == "stream":
            return Expect(
                (b'"finishReason":"STOP"',), events=canned.config.sse_events, ends_with=b"\r\n\r\n"
            )
        if name == "imgout":
            return Expect((png_head, png_tail), len(canned.unary_image), ends_with=b"}")
        return Expect((text,), len(canned.unary_text), ends_with=b"}")
    if name == "stream":
        events = canned.config.sse_events + 1 if strict else 0  # + data: [DONE]
        last = canned.stream_texts[-1].strip().encode()
        return Expect((last,), events=events, ends_with=b"data: [DONE]\n\n")
    finish = (b'"finish_reason":"stop"',) if strict else ()
    if name == "imgout":
        return Expect((png_head, png_tail, *finish), len(canned.png_b64), ends_with=b"}")
    return Expect((text, *finish), len(canned.text), ends_with=b"}")
