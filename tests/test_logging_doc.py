"""docs/logging.md cannot drift: every field a log line carries and every `notes` value the code
can produce is documented there. Read two ways: from the source (the `extra=` of every log call,
every note literal under gateway/), and from the JSON lines as written while requests run
through the app on the emulator at debug."""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.logs import JsonFormatter, RequestIdFilter
from tests.conftest import ROOT, emulator_stack

DOC = (ROOT / "docs" / "logging.md").read_text(encoding="utf-8")
GATEWAY = ROOT / "gateway"
NOTE = re.compile(r"^[a-z]+(?:_[a-z]+)+:")  # a note's family: snake_case with an underscore
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
BASE_FIELDS = ("time", "ts", "level", "logger", "msg", "exc", "request_id")


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(GATEWAY.rglob("*.py")):
        if "emulator" not in path.relative_to(GATEWAY).parts:  # a test double, not the gateway
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def documented(name: str) -> bool:
    """A row of its own in one of the page's tables (a field, or a note)."""
    return f"\n| `{name}` |" in DOC


# -- log fields, from the source -------------------------------------------------------------


class FieldReader:
    """The constant keys of a log call's `extra`: a dict literal, `**` of a dict built in the
    same function, or the dict literal a called function returns."""

    def __init__(self) -> None:
        self.returns: dict[str, list[ast.Dict]] = {}
        for _, tree in modules():
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    found = [
                        r.value
                        for r in ast.walk(node)
                        if isinstance(r, ast.Return) and isinstance(r.value, ast.Dict)
                    ]
                    self.returns.setdefault(node.name, []).extend(found)

    def keys(self, node: ast.expr, scope: ast.AST, where: str) -> set[str]:
        if isinstance(node, ast.Dict):
            found: set[str] = set()
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    found |= self.keys(value, scope, where)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    raise AssertionError(f"{where}: a log field whose name is not a constant")
            return found
        if isinstance(node, ast.Name):
            dicts = [
                a.value
                for a in ast.walk(scope)
                if isinstance(a, ast.Assign | ast.AnnAssign)
                and isinstance(a.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in _targets(a))
            ]
            if dicts:
                return set().union(*(self.keys(d, scope, where) for d in dicts))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if self.returns.get(name):
                return set().union(*(self.keys(d, scope, where) for d in self.returns[name]))
        raise AssertionError(f"{where}: cannot read this log call's fields; pass a dict literal")


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]


def fields_in_source() -> dict[str, str]:
    """Field → where it is first logged."""
    reader = FieldReader()
    fields: dict[str, str] = {}
    for path, tree in modules():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                if not _is_log_call(call):
                    continue
                assert isinstance(call, ast.Call)
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                for keyword in call.keywords:
                    if keyword.arg == "extra":
                        for key in reader.keys(keyword.value, function, where):
                            fields.setdefault(key, where)
    return fields


def _is_log_call(node: ast.AST) -> bool:
    """`log.info(...)`, `_log.debug(...)`, `logger.log(...)`: a method of a logger-named object."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    target = node.func.value
    return (
        node.func.attr in LOG_METHODS
        and isinstance(target, ast.Name)
        and "log" in target.id.lower()
    )


def test_every_field_the_code_logs_is_documented() -> None:
    fields = fields_in_source()
    assert {"notes", "upstream_url", "image_host", "kept_turns", "listen"} <= set(fields)
    missing = {f: where for f, where in fields.items() if not documented(f)}
    assert missing == {}, "add these fields to docs/logging.md"
    assert all(documented(f) for f in BASE_FIELDS)


# -- notes, from the source --------------------------------------------------------------------


def notes_in_source() -> tuple[dict[str, str], dict[str, str]]:
    """(exact notes, note prefixes completed at run time) → where each is written."""
    exact: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for path, tree in modules():
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and NOTE.match(str(head.value)):
                    prefixes.setdefault(str(head.value), where)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if NOTE.match(node.value):
                    detail = node.value.partition(":")[2]
                    complete = detail and not detail.endswith(("_", "="))
                    (exact if complete else prefixes).setdefault(node.value, where)
    return exact, prefixes


def note_documented(note: str) -> bool:
    """Listed as is, or as a pattern (`images_failed:<n>`, `responses_ignored:item_<type>`)."""
    if documented(note):
        return True
    for pattern in re.findall(r"\n\| `([a-z_]+:[a-z_=]*)<[a-z]+>` \|", DOC):
        if note.startswith(pattern) and len(note) > len(pattern):
            return True
    return False


def test_every_note_the_code_writes_is_documented() -> None:
    exact, prefixes = notes_in_source()
    families = {n.partition(":")[0] for n in (*exact, *prefixes)}
    assert len(families) >= 10 and "signature_fallback" in families
    assert {n: w for n, w in exact.items() if not documented(n)} == {}
    undocumented = {p: w for p, w in prefixes.items() if f"\n| `{p}" not in DOC}
    assert undocumented == {}, "document these note families (with their values) in the Notes table"


# -- both, from a run ------------------------------------------------------------------------


async def run_requests(stack: Any) -> None:
    """Requests that exercise the main lines: chat (a second turn without its carrier, a
    stream), a Gemini-3 image model's unsigned turn, the Responses API, embeddings and images
    by OpenAI names, a retried 503."""
    client = stack.openai()
    model = "gemini-2.5-flash"
    first = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}]
    )
    history: list[Any] = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "again"},
    ]
    await client.chat.completions.create(model=model, messages=history)
    stream = await client.chat.completions.create(model=model, messages=history, stream=True)
    _ = [chunk async for chunk in stream]
    unsigned = [history[0], {"role": "assistant", "content": "a turn never made"}, history[2]]
    await client.chat.completions.create(model="gemini-3-pro-image-preview", messages=unsigned)
    await client.responses.create(model=model, input="hi")
    await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    await client.images.generate(model="dall-e-3", prompt="an owl")
    stack.emulator.queue_fault("status", code=503, count=1)
    await client.chat.completions.create(model=model, messages=history)


def shipped_lines(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    lines = []
    for record in records:
        RequestIdFilter().filter(record)
        lines.append(orjson.loads(JsonFormatter().format(record)))
    return lines


@pytest.mark.anyio
async def test_the_lines_a_run_writes_use_only_documented_fields_and_notes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator_stack(history_budget="trim", api_keys=("AIzaDOCRUNKEY0000000001",)) as s:
        await run_requests(s)
    lines = shipped_lines([r for r in caplog.records if r.name.startswith("gateway")])
    messages = {line["msg"].partition(":")[0] for line in lines}
    assert {"request", "upstream call", "turn cache lookup", "history budget applied"} <= messages
    assert {"retrying upstream call", "upstream call failed", "signature fallback used"} <= messages
    fields = {key for line in lines for key in line}
    assert sorted(f for f in fields if not documented(f)) == []
    notes = {note for line in lines if line["msg"] == "request" for note in line["notes"]}
    assert {"turn_source:cache", "embeddings_model_alias:text-embedding-3-small"} <= notes
    assert any(n.startswith("signature_fallback:") for n in notes)
    assert sorted(n for n in notes if not note_documented(n)) == []
