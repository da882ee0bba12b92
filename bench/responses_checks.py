"""Checks for the /v1/responses twins of the chat scenarios (rtext, rstream, rimg4, rimgout):
the same upstream traffic, answered in the Responses shape. A faithful gateway passes every
upstream text delta on as one `response.output_text.delta`, the image bytes unchanged, and the
image's signature inside the reasoning item's envelope."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from bench.load import Expect
from bench.payloads import Canned


def _events(body: bytes) -> list[dict[str, Any]]:
    return [
        orjson.loads(line[5:].strip()) for line in body.split(b"\n") if line.startswith(b"data:")
    ]


def _envelope_signatures(output: list[dict[str, Any]]) -> list[str]:
    """The signatures a gateway envelope carries (its middle segment is base64url JSON)."""
    token = next((o.get("encrypted_content") for o in output if o["type"] == "reasoning"), None)
    if not isinstance(token, str) or token.count(".") != 2:
        return []
    payload = token.split(".")[1]
    layout = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["p"]
    return [d["s"] for d in layout if "s" in d]


def check_responses_reply(kind: str, body: bytes, canned: Canned, strict: bool) -> list[str]:
    try:
        return _check(kind, body, canned, strict)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
        return ["the answer is not in the Responses shape"]


def _check(kind: str, body: bytes, canned: Canned, strict: bool) -> list[str]:
    problems: list[str] = []
    if kind == "stream":
        events = _events(body)
        deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
        if "".join(deltas) != "".join(canned.stream_texts):
            problems.append("streamed text differs from the upstream's")
        if not events or events[-1]["type"] != "response.completed":
            problems.append("the stream did not end with response.completed")
        if strict and len(deltas) != canned.config.sse_events:
            problems.append(f"text deltas {len(deltas)} != events in {canned.config.sse_events}")
        return problems
    data = orjson.loads(body)
    output = data.get("output") or []
    if data.get("status") != "completed":
        problems.append(f"status={data.get('status')}")
    texts = [
        c["text"] for o in output if o["type"] == "message" for c in o["content"] if "text" in c
    ]
    if kind == "imgout":
        images = [o for o in output if o["type"] == "image_generation_call"]
        if not images or images[0].get("result") != canned.png_b64:
            problems.append("the image is missing or its bytes differ")
        if strict and canned.image_sig not in _envelope_signatures(output):
            problems.append("the image's signature is missing from the reasoning envelope")
        if canned.image_text not in "".join(texts):
            problems.append("the text part is missing")
    elif "".join(texts) != canned.text:
        problems.append("output_text differs from the upstream's text")
    want = canned.usage(kind == "imgout")["totalTokenCount"]
    if strict and (data.get("usage") or {}).get("total_tokens") != want:
        problems.append("usage.total_tokens differs")
    return problems


def responses_expect(kind: str, canned: Canned, strict: bool) -> Expect:
    """The cheap per-response check under load (no JSON parsing)."""
    if kind == "stream":
        last = canned.stream_texts[-1].strip().encode()
        return Expect((last, b"event: response.completed"), ends_with=b"\n\n")
    done = (b'"status":"completed"',) if strict else ()
    if kind == "imgout":
        head, tail = canned.png_b64[:64].encode(), canned.png_b64[-64:].encode()
        return Expect((head, tail, *done), len(canned.png_b64), ends_with=b"}")
    return Expect((canned.text.encode(), *done), len(canned.text), ends_with=b"}")
