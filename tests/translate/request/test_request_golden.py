"""OpenAI request → Gemini body, one golden directory per translation rule.

Each case: `openai.json` (the client's body), optional `resolved.json` (what the shell looked
up: `images` by URL as [mime, base64], `turns` by cache key, `hosted_base`) and `gemini.json`
(the expected upstream body, validated against google-genai's own types).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from golden import case_dirs, load
from validators import validate_gemini_request

from gateway.protocol.turn_record import TurnRecord
from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.turn_view import ViewOptions

CASES = case_dirs(Path(__file__).parent / "golden")


def resolved_for(case: Path) -> Resolved:
    path = case / "resolved.json"
    if not path.is_file():
        return Resolved()
    spec = load(path)
    images = {url: (mime, data) for url, (mime, data) in spec.get("images", {}).items()}
    turns = {
        key: TurnRecord.decode(orjson.dumps(raw)) for key, raw in spec.get("turns", {}).items()
    }
    assert None not in turns.values(), f"{case.name}: a turn record of another shape"
    return Resolved(images, turns, spec.get("hosted_base"))


def translate(case: Path) -> dict[str, Any]:
    body = load(case / "openai.json")
    before = copy.deepcopy(body)
    chat = parse_chat_request(body)
    call = to_gemini_request(chat, resolved_for(case), ViewOptions())
    assert body == before, "translation must not modify the client's body"
    return call.body


def test_every_case_has_its_files() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        assert (case / "openai.json").is_file(), case.name
        assert (case / "README.md").read_text().strip().count("\n") == 0, case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_request_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    body = translate(case)
    validate_gemini_request(body)
    check_golden(case / "gemini.json", body)
