"""lifted_json.loads must be orjson.loads, byte for byte and error for error, whatever the
body: runs are cut only where putting them back is exact."""

from __future__ import annotations

import base64
import json
import os

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import lifted_json

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(3 * lifted_json.MIN_RUN)).decode()


def same_as_orjson(raw: bytes) -> None:
    try:
        expected = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        with pytest.raises(orjson.JSONDecodeError) as caught:
            lifted_json.loads(raw)
        assert (caught.value.msg, caught.value.pos) == (exc.msg, exc.pos)
        return
    assert lifted_json.loads(raw) == expected


def test_an_image_request_parses_to_the_same_value_with_the_payload_cut_out():
    body = {
        "model": "gemini-3-pro-image-preview",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Edit this"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
            {
                "role": "assistant",
                "content": f"Here:\n\n![image 1](data:image/png;base64,{PNG})\n\nDone — ok",
                "extra_content": {"google": {"thought_signature": PNG[:40000]}},
            },
        ],
    }
    raw = orjson.dumps(body)
    assert lifted_json.loads(raw) == body
    assert lifted_json.long_runs(raw)  # the test really exercises the cutting


def test_gemini_pretty_printed_answers_with_inline_data_parse_the_same():
    answer = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
                },
                "thoughtSignature": PNG[:50000],
            }
        ]
    }
    raw = orjson.dumps(answer, option=orjson.OPT_INDENT_2)
    assert lifted_json.loads(raw) == answer
    assert len(lifted_json.long_runs(raw)) == 2


def test_a_long_run_outside_any_string_gets_orjsons_own_error():
    raw = b'{"a": "x", ' + b"1" * (2 * lifted_json.MIN_RUN) + b' "b": "y"}'
    same_as_orjson(raw)
    raw = b'["x" ' + b" " * (2 * lifted_json.MIN_RUN) + b', "y"]'
    same_as_orjson(raw)


def test_non_ascii_and_escaped_runs_are_left_to_orjson():
    long_text = "é" * lifted_json.MIN_RUN + "\\" + '"' + "\u2028" + "x" * lifted_json.MIN_RUN
    raw = orjson.dumps({"text": long_text, "key" * 20000: PNG})
    assert lifted_json.loads(raw) == orjson.loads(raw)


def test_a_long_key_is_restored_too():
    body = {PNG: {"nested": [PNG, {"deeper": PNG}]}}
    assert lifted_json.loads(orjson.dumps(body)) == body


def test_a_client_string_that_looks_like_a_marker_stays_as_sent():
    body = {"a": "\x00deadbeefdeadbeef#0\x00", "b": PNG, "c": "x\x00y"}
    assert lifted_json.loads(orjson.dumps(body)) == body


def test_raw_control_characters_in_a_cut_run_are_the_one_leniency():
    raw = b'{"data": "' + b"A" * lifted_json.MIN_RUN + b'\x01AAAA"}'
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    assert lifted_json.loads(raw) == {"data": "A" * lifted_json.MIN_RUN + "\x01AAAA"}
    assert lifted_json.loads(raw) == json.loads(raw, strict=False)


def test_a_body_of_many_small_values_is_parsed_whole(monkeypatch):
    restored: list[object] = []
    monkeypatch.setattr(lifted_json, "_restore", lambda *args: restored.append(args))
    run = "A" * lifted_json.MIN_RUN
    mostly_small = orjson.dumps({"image": run, "rest": ["ab"] * lifted_json.MIN_RUN})
    assert lifted_json.loads(mostly_small) == orjson.loads(mostly_small)
    assert restored == []  # nothing cut, nothing walked
    mostly_run = orjson.dumps({"image": run * 8, "rest": ["ab"] * 16})
    lifted_json.loads(mostly_run)
    assert len(restored) == 1


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=12)
    | st.sampled_from(["AAAA+/==", "data:image/png;base64,QUJD", "![i](data:a/b;base64,QQ==)"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, indent=st.booleans())
def test_any_json_value_parses_the_same_with_tiny_runs(value, indent, monkeypatch_module):
    raw = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    assert lifted_json.loads(raw) == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=json_values,
    cut=st.integers(0, 10_000),
    junk=st.sampled_from([b"", b"\\", b'"', b"x", b"\\u00", b"\xc3", b"\x01", b" ", b"]"]),
)
def test_any_mangled_body_gets_the_same_value_or_the_same_error(
    value, cut, junk, monkeypatch_module
):
    raw = orjson.dumps(value)
    at = cut % (len(raw) + 1)
    mangled = raw[:at] + junk + raw[at:]
    if b"\x01" in mangled:
        return  # the documented leniency
    same_as_orjson(mangled)


@pytest.fixture(scope="module")
def monkeypatch_module():
    """Runs of 4 bytes are cut whatever their share, so small generated values exercise every
    path."""
    patch = pytest.MonkeyPatch()
    patch.setattr(lifted_json, "MIN_RUN", 4)
    patch.setattr(lifted_json, "MIN_SHARE", 0)
    yield
    patch.undo()


def test_nesting_deeper_than_pythons_stack_still_parses():
    raw = b"[" * 1000 + b'"' + PNG.encode() + b'"' + b"]" * 1000
    node, depth = lifted_json.loads(raw), 0
    while isinstance(node, list):  # `==` on such lists would itself recurse too deep
        (node,) = node
        depth += 1
    assert (depth, node) == (1000, PNG)


def test_text_that_looks_like_a_marker_before_a_cut_run_stays_as_sent():
    look_alike = b"\\u0000abcdef0123456789#\\u0035"  # NUL, 16 hex digits, "#5"
    raw = b'{"s": "' + look_alike + b"A" * lifted_json.MIN_RUN + b'"}'
    assert lifted_json.loads(raw) == orjson.loads(raw)
