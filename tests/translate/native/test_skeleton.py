"""The skeleton reader: the same verdict as `orjson.loads`, payloads left in the request's bytes,
and a written-back skeleton equal to the body, byte for byte, with holes as the request's own
memory (no payload copied)."""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
import pytest

from gateway.lifted_json import MIN_RUN
from gateway.translate.native import skeleton
from gateway.translate.native.repairs import repair

IMAGE = base64.b64encode(os.urandom(3 * MIN_RUN)).decode()
SIGNATURE = base64.b64encode(os.urandom(MIN_RUN)).decode()


def seed_body(**extra: Any) -> bytes:
    return orjson.dumps(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "A dog"}]},
                {
                    "role": "model",
                    "parts": [
                        {"inline_data": {"mime_type": "image/png", "data": IMAGE}},
                        {"thought_signature": SIGNATURE},
                    ],
                },
                {"role": "user", "parts": [{"text": "Sunset"}]},
            ],
            **extra,
        }
    )


def joined(encoded: skeleton.Encoded) -> bytes:
    return encoded if isinstance(encoded, bytes) else b"".join(encoded)


def test_payloads_stay_in_the_request_bytes() -> None:
    raw = seed_body()
    parsed = skeleton.parse(raw)
    assert len(parsed.holes) == 2
    assert all(hole.obj is raw for hole in parsed.holes)
    assert skeleton.filled(parsed) == orjson.loads(raw)
    assert len(orjson.dumps(parsed.data)) < 1024  # only the structure was parsed


def test_a_repaired_skeleton_is_written_with_the_request_payloads() -> None:
    raw = seed_body()
    parsed = skeleton.parse(raw)
    repair(parsed.data, "GenerateContentRequest")
    encoded = skeleton.encode(parsed)
    assert isinstance(encoded, tuple)
    spliced = [p for p in encoded if isinstance(p, memoryview) and p.obj is raw]
    assert sorted(len(p) for p in spliced) == sorted([len(IMAGE), len(SIGNATURE)])
    expected = orjson.loads(raw)
    repair(expected, "GenerateContentRequest")
    assert joined(encoded) == orjson.dumps(expected)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1}',
        b"[1, 2]",
        b'{"text": "' + b"x" * MIN_RUN + b"\\n" + b"y" * MIN_RUN + b'"}',  # a run after an escape
        b'{"t": "' + "é".encode() * MIN_RUN + b'", "d": "' + b"A" * MIN_RUN + b'"}',
        b'["x" ' + b" " * (2 * MIN_RUN) + b', "y"]',  # a "run" outside any string
        b'{"' + b"k" * MIN_RUN + b'": 1}',  # a run in a key
    ],
)
def test_same_value_as_orjson(raw: bytes) -> None:
    parsed = skeleton.parse(raw)
    assert skeleton.filled(parsed) == orjson.loads(raw)
    if skeleton.keys_have_holes(parsed):
        parsed = skeleton.Skeleton(skeleton.filled(parsed))
    assert orjson.loads(joined(skeleton.encode(parsed))) == orjson.loads(raw)


@pytest.mark.parametrize(
    "raw", [b"{bad", b'{"a": "' + b"A" * MIN_RUN + b'"', b'{"a": ' + b"1" * MIN_RUN + b"x}"]
)
def test_same_errors_as_orjson(raw: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError) as ours:
        skeleton.parse(raw)
    with pytest.raises(orjson.JSONDecodeError) as theirs:
        orjson.loads(raw)
    assert (ours.value.msg, ours.value.pos) == (theirs.value.msg, theirs.value.pos)


def test_a_dropped_hole_is_not_written() -> None:
    raw = seed_body()
    parsed = skeleton.parse(raw)
    parsed.data["contents"][1]["parts"].pop()  # the lone signature part
    out = orjson.loads(joined(skeleton.encode(parsed)))
    assert out["contents"][1]["parts"] == [
        {"inline_data": {"mime_type": "image/png", "data": IMAGE}}
    ]
