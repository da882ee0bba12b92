"""Responses API translation, one golden per case (golden/<case>/README.md says what it is):

- `request.json` → `gemini.json`: the Gemini body the request becomes (plus `notes.json`);
- `gemini.json` (unary) → `response.json`, or `gemini.sse` → `events.jsonl`: the response
  object / event list (sequence numbers as the stream writer adds them);
- `replay-of.txt`: another case's output replayed as items (store=false) → `gemini.json`.

Upstream bodies are validated with google-genai's types, responses and events with the openai
SDK's. The envelope secret and the response id are fixed, so envelopes are stable too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter
from validators import validate_gemini_request, validate_gemini_response

from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.responses import Keys, to_chat_request
from gateway.translate.responses.output import OutputContext
from gateway.translate.responses.params import echo_fields
from gateway.translate.responses.parse import parse_responses_request
from gateway.translate.responses.reply import ReplyReader, response_object, to_responses_response
from gateway.translate.turn_view import ViewOptions

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "README.md").is_file())
SECRET = b"golden-secret"
KEYS = Keys(SECRET, "gemini")
CREATED = 1_760_000_000
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)

Json = dict[str, Any]


def read_source(path: Path) -> Json | list[Json]:
    if path.suffix == ".json":
        return dict(orjson.loads(path.read_bytes()))
    frames = path.read_text().split("\n\n")
    return [orjson.loads(f.strip().removeprefix("data:")) for f in frames if f.strip()]


def context(model: str) -> OutputContext:
    return OutputContext("resp_golden", model, "gemini", SECRET, partial_images=0)


def gemini_body(raw: Json) -> tuple[Json, list[str]]:
    request = parse_responses_request(raw)
    translated = to_chat_request(request, [], KEYS)
    call = to_gemini_request(translated.chat, Resolved(), ViewOptions(image_markdown=False))
    validate_gemini_request(call.body)
    return call.body, [*translated.notes, *call.notes]


def unary(reply: Json, model: str, raw: Json | None = None) -> Json:
    echo = echo_fields(parse_responses_request(raw or {"model": model, "input": "x"}))
    response, _ = to_responses_response(reply, context(model), echo, CREATED, CREATED + 1)
    Response.model_validate(response)
    return response


def streamed(events: list[Json], model: str) -> list[Json]:
    ctx = context(model)
    echo = echo_fields(parse_responses_request({"model": model, "input": "x"}))
    reader = ReplyReader(ctx, streaming=True)
    for event in events:
        reader.feed(event)
    status, incomplete, usage = reader.finish()
    final = response_object(
        ctx,
        echo,
        CREATED,
        status=status,
        output=reader.builder.items,
        usage=usage,
        incomplete=incomplete,
        completed_at=CREATED + 1,
    )
    out = [*reader.builder.events, {"type": "response.completed", "response": final}]
    for n, event in enumerate(out):
        event["sequence_number"] = n
        EVENTS.validate_python(event)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_responses_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    assert (case / "README.md").read_text().strip().count("\n") == 0
    if (case / "request.json").is_file():
        body, notes = gemini_body(orjson.loads((case / "request.json").read_bytes()))
        check_golden(case / "gemini.json", body)
        check_golden(case / "notes.json", notes)
    elif (case / "replay-of.txt").is_file():
        source = GOLDEN / (case / "replay-of.txt").read_text().strip()
        reply = orjson.loads((source / "gemini.json").read_bytes())
        model = str(reply.get("modelVersion") or "gemini-3-pro-image-preview")
        output = Response.model_validate(unary(reply, model)).output
        history = [{"role": "user", "content": "a fox"}, *(o.model_dump() for o in output)]
        raw = {"model": model, "input": [*history, {"role": "user", "content": "now blue"}]}
        body, notes = gemini_body(raw)
        issued = reply["candidates"][0]["content"]["parts"][1:]  # the thought is not replayed
        assert body["contents"][1] == {"role": "model", "parts": issued}
        check_golden(case / "gemini.json", body)
        check_golden(case / "notes.json", notes)
    else:
        unary_case = (case / "gemini.json").is_file()
        source = read_source(case / ("gemini.json" if unary_case else "gemini.sse"))
        if isinstance(source, dict):
            validate_gemini_response(source)
            model = str(source.get("modelVersion") or "gemini-3-flash-preview")
            check_golden(case / "response.json", unary(source, model))
        else:
            for event in source:
                validate_gemini_response(event)
            check_golden(case / "events.jsonl", streamed(source, "gemini-3-pro-preview"))
