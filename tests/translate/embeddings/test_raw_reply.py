"""Replies read from their bytes (translate/embeddings/raw_reply.py): the float answer that
copies Gemini's number text must equal, value by value, the one that parses and re-encodes
them; the body that cannot be read that way is parsed whole, with the same verdict; Gemini's
garbage is a 502 in both encodings, never a 500 nor an answer that is not JSON."""

from __future__ import annotations

import base64
import random
import struct
from typing import Any

import orjson
import pytest
from validators import validate_openai_embeddings

from gateway.emulator.embeddings import embedding_values
from gateway.errors import UpstreamError
from gateway.translate.embeddings.raw_reply import _put_back, lift
from gateway.translate.embeddings.request import parse_embeddings_request
from gateway.translate.embeddings.response import to_openai_embeddings
from gateway.translate.embeddings.wire import AI_STUDIO, VERTEX_PREDICT, EmbedWire, read_reply

EDGE_NUMBERS = (
    b"[-0.0123, 1E-05, 2.5e+22, -3.4e-38, 0, -0.0, 0.12345678901234567, 123456789.5, 1, -7]"
)


def answer(raw: bytes, count: int, encoding: str, wire: EmbedWire = AI_STUDIO) -> Any:
    """The OpenAI body the gateway writes, as bytes parsed back."""
    request = parse_embeddings_request(
        {"model": "gemini-embedding-001", "input": ["t"] * count, "encoding_format": encoding},
        2048,
    )
    vectors, tokens, texts = read_reply(wire, raw, count, keep_texts=encoding == "float")
    body = orjson.loads(orjson.dumps(to_openai_embeddings(request, vectors, tokens or 1, texts)))
    validate_openai_embeddings(body)
    return body


def reencoded(raw: bytes, count: int, encoding: str, wire: EmbedWire = AI_STUDIO) -> Any:
    """What the gateway wrote before: the body parsed whole, the values encoded again."""
    request = parse_embeddings_request(
        {"model": "gemini-embedding-001", "input": ["t"] * count, "encoding_format": encoding},
        2048,
    )
    vectors, tokens = wire.read(orjson.loads(raw), count)
    return orjson.loads(orjson.dumps(to_openai_embeddings(request, vectors, tokens or 1)))


def emulator_reply(width: int, pretty: bool) -> bytes:
    reply = {"embeddings": [{"values": embedding_values(f"text {i}", "", width)} for i in range(3)]}
    return orjson.dumps(reply, option=orjson.OPT_INDENT_2 if pretty else 0)


@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "pretty"])
@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_the_emulators_vectors_come_out_as_parsing_and_reencoding_gives(
    pretty: bool, encoding: str
) -> None:
    raw = emulator_reply(768, pretty)
    assert lift(raw, 3, encoding == "float") is not None  # the fast reading applied
    got = answer(raw, 3, encoding)
    assert got == reencoded(raw, 3, encoding)
    if encoding == "float":
        assert [d["embedding"] for d in got["data"]] == [
            embedding_values(f"text {i}", "", 768) for i in range(3)
        ]


def test_edge_numbers_are_copied_as_written_and_read_back_equal() -> None:
    raw = b'{"embeddings": [{"values": %s}, {"values": [0.5]}]}' % EDGE_NUMBERS
    text = orjson.dumps(to_openai_from(raw))
    assert EDGE_NUMBERS in text  # Gemini's text itself, exponents and integers as written
    got = answer(raw, 2, "float")
    want = reencoded(raw, 2, "float")
    for mine, theirs in zip(got["data"], want["data"], strict=True):
        assert len(mine["embedding"]) == len(theirs["embedding"])
        for a, b in zip(mine["embedding"], theirs["embedding"], strict=True):
            assert a == b
            assert struct.pack("<d", a) == struct.pack("<d", float(b))  # -0.0 stays negative


def to_openai_from(raw: bytes) -> dict[str, Any]:
    request = parse_embeddings_request(
        {"model": "gemini-embedding-001", "input": ["a", "b"], "encoding_format": "float"}, 9
    )
    vectors, _, texts = read_reply(AI_STUDIO, raw, 2, keep_texts=True)
    assert texts, "the fast reading should have applied"
    return to_openai_embeddings(request, vectors, 1, texts)


def test_base64_of_edge_numbers_is_their_float32() -> None:
    raw = b'{"embeddings": [{"values": %s}]}' % EDGE_NUMBERS
    encoded = answer(raw, 1, "base64")["data"][0]["embedding"]
    floats = orjson.loads(EDGE_NUMBERS)
    assert base64.b64decode(encoded) == struct.pack(f"<{len(floats)}f", *floats)


def test_all_integer_vectors_are_parsed_whole_and_written_as_floats() -> None:
    raw = b'{"embeddings": [{"values": [1, 0, -2]}]}'
    assert lift(raw, 1, True) is None
    assert answer(raw, 1, "float")["data"][0]["embedding"] == [1.0, 0.0, -2.0]


def test_a_boolean_among_floats_is_written_as_a_float_not_as_true() -> None:
    raw = b'{"embeddings": [{"values": [1.5, true, false]}]}'
    assert lift(raw, 1, True) is None
    assert orjson.dumps(answer(raw, 1, "float")["data"][0]["embedding"]) == b"[1.5,1.0,0.0]"


def test_a_marker_must_stand_alone_once() -> None:
    lists = {"\x00n#0": [0.5]}
    assert _put_back({"a": "\x00n#0"}, dict(lists)) is True
    assert _put_back({"a": "\x00n#0", "b": "\x00n#0"}, dict(lists)) is False  # twice
    assert _put_back({"a": "x \x00n#0"}, dict(lists)) is False  # inside a longer string
    assert _put_back({"\x00n#0": 1}, dict(lists)) is False  # as a key
    assert _put_back({"a": 1}, dict(lists)) is False  # never met


def test_vertex_predict_vectors_and_counts_are_read_from_bytes() -> None:
    raw = orjson.dumps(
        {
            "predictions": [
                {"embeddings": {"values": [0.25, -0.5], "statistics": {"token_count": 3}}},
                {"embeddings": {"statistics": {"token_count": 2.0}, "values": [1.5, 2e-3]}},
            ]
        }
    )
    got = answer(raw, 2, "float", VERTEX_PREDICT)
    assert [d["embedding"] for d in got["data"]] == [[0.25, -0.5], [1.5, 0.002]]
    assert got["usage"]["prompt_tokens"] == 5
    assert got == reencoded(raw, 2, "float", VERTEX_PREDICT)


GARBAGE = {
    "values not an array": b'{"embeddings": [{"values": 5}]}',
    "values a string": b'{"embeddings": [{"values": "[1.5]"}]}',
    "a string inside values": b'{"embeddings": [{"values": [1.5, "2"]}]}',
    "a bracket in a string inside values": b'{"embeddings": [{"values": [1.5, "]"]}]}',
    "nested brackets": b'{"embeddings": [{"values": [1.5, [2.5]]}]}',
    "an object inside values": b'{"embeddings": [{"values": [1.5, {"a": 1}]}]}',
    "null inside values": b'{"embeddings": [{"values": [1.5, null]}]}',
    "empty values": b'{"embeddings": [{"values": []}]}',
    "missing embeddings": b'{"values": [1.5]}',
    "embeddings not a list": b'{"embeddings": {"values": [1.5]}}',
    "count mismatch": b'{"embeddings": [{"values": [1.5]}, {"values": [2.5]}]}',
    "values at the wrong level": b'{"embeddings": [{"other": {"values": [1.5]}}]}',
    "two dots": b'{"embeddings": [{"values": [1..5]}]}',
    "leading zero": b'{"embeddings": [{"values": [01.5]}]}',
    "trailing comma": b'{"embeddings": [{"values": [1.5,]}]}',
    "bare sign": b'{"embeddings": [{"values": [1.5, -]}]}',
    "huge exponent": b'{"embeddings": [{"values": [1.5, 1e999]}]}',
    "space inside a number": b'{"embeddings": [{"values": [1.5, 2 .5]}]}',
    "unclosed array": b'{"embeddings": [{"values": [1.5, 2.5',
    "truncated after the array": b'{"embeddings": [{"values": [1.5, 2.5]}',
    "not JSON": b"<html>502 Bad Gateway</html>",
    "a list, not an object": b'[{"values": [1.5]}]',
    "the key in a string": b'{"embeddings": [{"note": "\\"values\\": [1.5]"}]}',
}


@pytest.mark.parametrize("encoding", ["float", "base64"])
@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_a_502_in_both_encodings(raw: bytes, encoding: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        answer(raw, 1, encoding)  # one input asked: "count mismatch" holds two vectors
    assert caught.value.status == 502


def test_a_values_key_elsewhere_is_not_taken_for_a_vector() -> None:
    raw = b'{"embeddings": [{"values": [0.5]}], "meta": {"values": [9.5]}}'
    assert answer(raw, 1, "float")["data"][0]["embedding"] == [0.5]
    assert answer(raw, 1, "float") == reencoded(raw, 1, "float")


def test_only_the_returned_vectors_texts_are_kept() -> None:
    """A text kept for a list that dies with the reply would name whatever list is allocated
    at its address next (tests/e2e/test_embeddings_untrusted_replies.py)."""
    raw = b'{"embeddings": [{"\\u0076alues": [0.5]}, {"values": [1.5]}], "x": {"values": [9.5]}}'
    vectors, _, texts = read_reply(AI_STUDIO, raw, 2, keep_texts=True)
    assert set(texts) == {id(vectors[1])}
    assert texts[id(vectors[1])] == b"[1.5]"


def test_a_values_key_inside_a_string_changes_nothing() -> None:
    raw = b'{"note": "x\\"values\\": [1.5]", "embeddings": [{"values": [0.5, 1.5]}]}'
    assert answer(raw, 1, "float") == reencoded(raw, 1, "float")


def test_more_arrays_than_vectors_is_read_whole() -> None:
    raw = b'{"embeddings": [{"values": [0.5]}], "a": {"values": [1.5]}, "b": {"values": [2.5]}}'
    assert lift(raw, 1, True) is None
    assert answer(raw, 1, "float")["data"][0]["embedding"] == [0.5]


def test_a_body_of_many_values_keys_is_read_whole() -> None:
    noise = b", ".join(b'"values"' for _ in range(40))
    raw = b'{"embeddings": [{"values": [0.5]}], "noise": [%s]}' % noise
    assert lift(raw, 1, True) is None
    assert answer(raw, 1, "float")["data"][0]["embedding"] == [0.5]


MUTATIONS = b'0123456789.,-+eE[]{}":tn '


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_mutated_bodies_give_the_whole_parse_verdict_or_a_502(encoding: str) -> None:
    """Bounded and seeded: each body is a valid reply with a few bytes changed. Whatever the
    fast reading makes of it must be what parsing it whole makes of it, or a 502."""
    rng = random.Random(21)
    base = b'{"embeddings": [{"values": [0.5, -1.25e-3, 3]}, {"values": [2.5, 0.0]}]}'
    for _ in range(1500):
        raw = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.choice(MUTATIONS)
        body = bytes(raw)
        lifted = lift(body, 2, encoding == "float")
        if lifted is not None:  # cut arrays and all, exactly what parsing it whole gives
            assert lifted[0] == orjson.loads(body), body
        try:
            want = reencoded(body, 2, encoding)
        except (UpstreamError, orjson.JSONDecodeError, AttributeError, TypeError):
            want = None  # the whole-parse path refuses it (as a 502 in the gateway)
        try:
            got = answer(body, 2, encoding)
        except UpstreamError as exc:
            assert exc.status == 502
            assert want is None, body
            continue
        assert got == want, body
