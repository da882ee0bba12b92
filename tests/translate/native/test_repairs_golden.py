"""The native body repairs, one golden directory per rule: `request.json` (what the client sent),
`repaired.json` (what goes upstream) and `repairs.json` (the counts the response header names).
Repaired generateContent bodies are validated against google-genai's own types."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from golden import case_dirs, load
from validators import validate_gemini_request

from gateway.translate.native.repairs import Repairs, repair

CASES = case_dirs(Path(__file__).parent / "golden")


def message_for(case: Path) -> str:
    return (
        "CountTokensRequest" if case.name.startswith("count-tokens") else "GenerateContentRequest"
    )


def test_every_case_has_its_files() -> None:
    assert len(CASES) >= 7
    for case in CASES:
        assert (case / "request.json").is_file(), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_repairs_golden(case: Path, check_golden: Callable[[Path, Any], None]) -> None:
    body = load(case / "request.json")
    done = repair(body, message_for(case))
    check_golden(case / "repaired.json", body)
    check_golden(case / "repairs.json", dict(done.items()))
    if message_for(case) == "GenerateContentRequest" and "lone-signature" not in case.name:
        if "both-spellings" not in case.name:
            validate_gemini_request(body)


def test_repairs_keep_key_order_and_values() -> None:
    body = load(Path(__file__).parent / "golden" / "seed-round-2" / "request.json")
    before = copy.deepcopy(body)
    repair(body, "GenerateContentRequest")
    model = body["contents"][1]
    assert list(model["parts"][0]) == ["inlineData", "thoughtSignature"]
    assert list(model["parts"][0]["inlineData"]) == ["mimeType", "data"]
    assert (
        model["parts"][0]["thoughtSignature"]
        == before["contents"][1]["parts"][1]["thought_signature"]
    )
    assert list(body) == list(before)


def test_a_body_needing_nothing_reports_nothing() -> None:
    body = load(Path(__file__).parent / "golden" / "camel-case-untouched" / "request.json")
    before = copy.deepcopy(body)
    done = repair(body, "GenerateContentRequest")
    assert not done
    assert done.header() == ""
    assert body == before


def test_header_names_each_repair_with_its_count() -> None:
    assert Repairs(snake_case=3, lone_signature=1).header() == "snake_case=3;lone_signature=1"
    assert Repairs(lone_signature=2).header() == "lone_signature=2"


@pytest.mark.parametrize("body", [[], "text", 3, None, {"contents": "x"}, {"contents": [1, []]}])
def test_odd_shapes_are_left_alone(body: Any) -> None:
    before = copy.deepcopy(body)
    assert not repair(body, "GenerateContentRequest")
    assert body == before
