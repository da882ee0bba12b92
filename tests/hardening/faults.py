"""Shared helpers for the hardening tests: one chat call, the gateway's SSE framing, envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

MODEL = "gemini-2.5-flash"


def chat_body(text: str = "hi", *, stream: bool = False, model: str = MODEL) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The OpenAI envelope of an error reply, checked for shape."""
        return envelope(self.json())

    @property
    def events(self) -> list[Any]:
        """The `data:` payloads of an SSE reply in order (`[DONE]` as the string)."""
        return sse_payloads(self.body)


async def chat(
    http: httpx.AsyncClient, text: str = "hi", *, stream: bool = False, **headers: str
) -> Reply:
    response = await http.post(
        "/v1/chat/completions", json=chat_body(text, stream=stream), headers=headers
    )
    return Reply(response.status_code, response.headers, response.content)


def envelope(data: Any) -> dict[str, Any]:
    assert isinstance(data, dict) and set(data) == {"error"}, data
    error = data["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    return error


def sse_payloads(body: bytes) -> list[Any]:
    """Strict for the gateway's framing: blocks split by a blank line, each a comment or one
    `data:` line; anything else fails the test."""
    assert body.endswith(b"\n\n"), body[-80:]
    out: list[Any] = []
    for block in body[:-2].split(b"\n\n"):
        if block.startswith(b":"):
            continue
        assert block.startswith(b"data: ") and b"\n" not in block, block[:80]
        payload = block[len(b"data: ") :]
        out.append("[DONE]" if payload == b"[DONE]" else orjson.loads(payload))
    return out


def assert_ends_with_error(reply: Reply, code: str | None) -> dict[str, Any]:
    """After the first byte: some content, then a final error event, then [DONE], nothing else."""
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = reply.events
    assert events[-1] == "[DONE]", events[-3:]
    error = envelope(events[-2])
    assert error["code"] == code, error
    assert all(isinstance(e, dict) and "error" not in e for e in events[:-2])
    assert events.count("[DONE]") == 1
    return error


def assert_complete_stream(reply: Reply) -> str:
    """A successful stream: chunks, a finish_reason, [DONE]; returns the content."""
    assert reply.status == 200, reply.body[:300]
    events = reply.events
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks and all(c.get("object") == "chat.completion.chunk" for c in chunks)
    finishes = [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]]
    assert finishes == ["stop"]
    return "".join(ch["delta"].get("content") or "" for c in chunks for ch in c["choices"])
