"""The response golden cases: reading their Gemini side (the captured samples in tests/fixtures/
by name, or hand-made files; unary `.json` object or streamed `.sse` / `.jsonl` / array), their
context, and running the stream translator the way the serving layer does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from golden import case_dirs, load

from gateway.errors import GatewayError, to_envelope
from gateway.translate.response.context import ResponseContext
from gateway.translate.response.stream import ChunkTranslator
from gateway.translate.turn_view import ViewOptions

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "gemini-samples"
# Sample 03's upstream redaction left placeholders that are not base64 (README of the samples).
REDACTED_PREFIX = "<redacted"

Json = dict[str, Any]
CASES = case_dirs(Path(__file__).parent / "golden")


def parse_sse(text: str) -> list[Json]:
    """`data:` lines, blank-line framed; tolerant of the `\\n\\r\\n` framing of sample 01."""
    events: list[Json] = []
    data: list[str] = []
    for line in [*text.splitlines(), ""]:
        line = line.rstrip("\r")
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            events.append(orjson.loads("\n".join(data)))
            data = []
    return events


def source_path(case: Path) -> Path:
    named = case / "source.txt"
    if named.is_file():
        return SAMPLES / named.read_text().strip()
    found = [p for p in (case / "gemini.json", case / "gemini.sse") if p.is_file()]
    assert len(found) == 1, f"{case.name}: one of source.txt, gemini.json, gemini.sse"
    return found[0]


def read_source(path: Path) -> Json | list[Json]:
    """A unary response (dict) or the events of a stream (list)."""
    text = path.read_text()
    if path.name.endswith((".sse", ".sse.txt")):
        return parse_sse(text)
    if path.suffix == ".jsonl":
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]
    loaded: Json | list[Json] = orjson.loads(text)
    return loaded


def as_base64_placeholders(value: Any) -> Any:
    """A copy where redacted placeholders read as base64, so Google's types can check the rest."""
    if isinstance(value, dict):
        return {k: as_base64_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_base64_placeholders(v) for v in value]
    if isinstance(value, str) and value.startswith(REDACTED_PREFIX):
        return "AA=="
    return value


def context_for(case: Path) -> ResponseContext:
    spec = load(case / "context.json") if (case / "context.json").is_file() else {}
    return ResponseContext(
        completion_id="chatcmpl-test",
        created=1700000000,
        model=spec.get("model", "gemini-3-pro-image-preview"),
        view=ViewOptions(**spec.get("view", {})),
        include_usage=spec.get("include_usage", False),
    )


def translate_stream(
    events: list[Json], ctx: ResponseContext, content_piece: int = 256 * 1024
) -> list[Json]:
    """The chunks a client gets; a stream that cannot finish ends with the error event."""
    translator = ChunkTranslator(ctx, content_piece)
    chunks = [chunk for event in events for chunk in translator.feed(event)]
    try:
        return chunks + translator.finish()
    except GatewayError as err:
        return [*chunks, to_envelope(err)]
