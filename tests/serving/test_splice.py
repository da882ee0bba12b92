"""Payloads spliced from the request bytes give the same Gemini body, byte for byte."""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
import pytest

from gateway import lifted_json
from gateway.protocol.stand_in import StandIn
from gateway.serving import splice
from gateway.translate.parse import parse_chat_request
from gateway.translate.request import inputs_needed, to_gemini_request
from gateway.translate.request.resolved import Resolved
from gateway.translate.turn_view import ViewOptions
from gateway.upstream.body import Pieces, as_bytes
from tests.validators import validate_gemini_request

pytestmark = pytest.mark.anyio


def b64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()


def request_bytes(images: list[str], extra: list[dict[str, Any]] | None = None) -> bytes:
    content: list[dict[str, Any]] = [{"type": "text", "text": "look at these"}]
    content += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    messages = [{"role": "user", "content": content + (extra or [])}]
    return orjson.dumps({"model": "gemini-2.5-flash", "messages": messages})


def translated(raw: bytes, stand_ins: bool = False) -> tuple[dict[str, Any], splice.Splices]:
    """The same steps as serving.chat.prepare, without the I/O."""
    spans: lifted_json.Spans = {}
    data = lifted_json.loads(raw, spans)
    splices = splice.from_spans(spans, stand_ins)
    chat = parse_chat_request(data)
    options = ViewOptions()
    inputs_needed(chat, options)
    resolved = Resolved(payloads=splices.payloads)
    return to_gemini_request(chat, resolved, options).body, splices


def test_images_go_out_as_the_request_bytes_and_the_body_is_unchanged():
    big = [f"data:image/png;base64,{b64(300_000)}", f"data:image/jpeg;base64,{b64(50_000)}"]
    small = f"data:image/png;base64,{b64(300)}"
    raw = request_bytes([big[0], small, big[1], big[0]])  # the first image twice
    body, splices = translated(raw)
    expected = orjson.dumps(body)
    encoded = splice.encode(body, splices.sources)
    assert isinstance(encoded, Pieces)
    assert encoded.joined() == expected and encoded.size == len(expected)
    from_request = [p for p in encoded.parts if isinstance(p, memoryview) and p.obj is raw]
    assert [len(p) for p in from_request] == [400_000, 66_668, 400_000]
    assert orjson.dumps(body) == expected  # the dict is as translation left it
    validate_gemini_request(orjson.loads(encoded.joined()))


def test_audio_and_files_are_spliced_too():
    audio = {"type": "input_audio", "input_audio": {"data": b64(60_000), "format": "wav"}}
    pdf = {"type": "file", "file": {"file_data": b64(60_000), "filename": "a.pdf"}}
    url = f"data:application/pdf;base64,{b64(60_000)}"
    pdf_url = {"type": "file", "file": {"file_data": url, "filename": "b.pdf"}}
    raw = request_bytes([], [audio, pdf, pdf_url])
    body, splices = translated(raw)
    encoded = splice.encode(body, splices.sources)
    assert isinstance(encoded, Pieces)
    assert encoded.joined() == orjson.dumps(body)
    assert sum(isinstance(p, memoryview) and p.obj is raw for p in encoded.parts) == 3


def test_a_few_payloads_left_of_a_large_request_are_encoded_not_kept_with_it():
    raw = request_bytes([f"data:image/png;base64,{b64(100_000)}" for _ in range(4)])
    body, splices = translated(raw)
    del body["contents"][0]["parts"][2:]  # e.g. the history budget dropped three of four
    encoded = splice.encode(body, splices.sources)
    assert encoded == orjson.dumps(body)  # bytes: the 530 kB request is not held for 130 kB


def test_without_long_payloads_the_body_is_plain_bytes():
    raw = request_bytes([f"data:image/png;base64,{b64(300)}"])
    body, splices = translated(raw)
    assert splices.sources == {}
    assert splice.encode(body, splices.sources) == orjson.dumps(body)


def test_a_payload_changed_after_translation_is_encoded_not_spliced():
    raw = request_bytes([f"data:image/png;base64,{b64(100_000)}"])
    body, splices = translated(raw)
    blob = body["contents"][0]["parts"][1]["inlineData"]
    blob["data"] = "".join(blob["data"])[:1000] + "AAAA"  # e.g. shrunk by the history budget
    encoded = splice.encode(body, splices.sources)
    assert encoded == orjson.dumps(body)


def test_an_equal_string_that_is_another_object_is_not_taken_for_the_known_payload():
    url = f"data:image/png;base64,{b64(40_000)}"
    payload = url[url.index(",") + 1 :]
    resolved = Resolved(payloads={id(url): (url, payload)})
    assert resolved.payload_of(url) is payload
    twin = "".join([url[:10], url[10:]])
    assert twin == url and resolved.payload_of(twin) is None


def test_a_raw_control_character_goes_out_as_sent():
    """The one difference from orjson (module docstring): JSON forbids it; Gemini refuses it."""
    payload = "A" * 20_000 + "\x01" + "A" * 20_000
    raw = request_bytes([f"data:image/png;base64,{payload}"]).replace(b"\\u0001", b"\x01")
    body, splices = translated(raw)
    joined = as_bytes(splice.encode(body, splices.sources))
    assert b"A\x01A" in joined and joined.replace(b"\x01", b"\\u0001") == orjson.dumps(body)


def test_stand_ins_go_out_as_the_payloads_they_stand_for():
    images = [f"data:image/png;base64,{b64(90_000)}", f"data:image/webp;base64,{b64(30_000)}"]
    small = f"data:image/png;base64,{b64(3_000)}"
    raw = request_bytes([images[0], small, images[1]])
    expected = orjson.dumps(translated(raw)[0])  # with the payloads themselves
    body, splices = translated(raw, stand_ins=True)
    sent = [p["inlineData"]["data"] for p in body["contents"][0]["parts"][1:]]
    assert isinstance(sent[0], StandIn) and isinstance(sent[2], StandIn)
    assert isinstance(sent[1], str) and len(sent[1]) == 4_000  # short payloads are text
    encoded = splice.encode(body, splices.sources)
    assert isinstance(encoded, Pieces) and encoded.joined() == expected


def test_stand_ins_are_written_out_when_splicing_would_hold_the_request():
    long_text = {"type": "text", "text": "A" * 600_000}  # a cut run that is no payload
    raw = request_bytes([f"data:image/png;base64,{b64(60_000)}"], [long_text])
    expected = orjson.dumps(translated(raw)[0])
    body, splices = translated(raw, stand_ins=True)
    assert splice.encode(body, splices.sources) == expected  # plain bytes, payload as text


def test_stand_ins_are_found_wherever_translation_put_them():
    raw = request_bytes([f"data:image/png;base64,{b64(60_000)}"])
    body, splices = translated(raw, stand_ins=True)
    part = body["contents"][0]["parts"].pop(1)
    body["systemInstruction"] = {"parts": [{"text": "x"}, part]}  # somewhere else entirely
    encoded = as_bytes(splice.encode(body, splices.sources))
    assert (
        orjson.loads(encoded)["systemInstruction"]["parts"][1]["inlineData"]["data"]
        == (orjson.loads(raw)["messages"][0]["content"][1]["image_url"]["url"].split(",")[1])
    )


def test_a_stand_in_read_as_a_payload_fails_loudly():
    raw = request_bytes([f"data:image/png;base64,{b64(60_000)}"])
    body, _ = translated(raw, stand_ins=True)
    stand_in = body["contents"][0]["parts"][1]["inlineData"]["data"]
    assert isinstance(stand_in, StandIn)
    with pytest.raises(TypeError):
        str(stand_in)
    with pytest.raises(TypeError):
        len(stand_in)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orjson.dumps(body)  # never sent unless serving/splice.py writes it out
