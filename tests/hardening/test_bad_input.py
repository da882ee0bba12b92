"""Bad bodies at the edge (§5 last row, §6 R1/R3): limits, content types, JSON that orjson
refuses or that would break forwarding. Always the envelope, never a 5xx, never an upstream call."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.app import build_app
from gateway.routes.common import MAX_JSON_DEPTH, nesting_exceeds
from tests.conftest import emulator_stack, make_settings
from tests.hardening.faults import chat_body, envelope
from tests.hardening.loopback import eventually, serve

pytestmark = pytest.mark.anyio

URL = "/v1/chat/completions"
JSON = {"content-type": "application/json"}


async def post_raw(stack, body: bytes | Any, **headers: str):
    async with stack.http() as http:
        return await http.post(URL, content=body, headers={**JSON, **headers})


def nested(depth: int) -> Any:
    """`depth` levels of objects around a string."""
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


async def assert_refused(stack, response, status: int, code: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    error = envelope(response.json())
    assert error["code"] == code
    assert stack.emulator.requests == [], "a refused body never reaches Gemini"
    return error


async def test_declared_length_over_the_limit_is_refused_without_reading_the_body():
    """Raw HTTP on loopback: headers promise 2 GB, no byte of body is sent, the 413 comes back."""
    app = build_app(make_settings(max_body_bytes=1024))
    with serve(app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n"
            b"content-type: application/json\r\ncontent-length: 2000000000\r\n\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        body = await asyncio.wait_for(reader.readexactly(length), 10)
        writer.close()
    assert head.startswith(b"HTTP/1.1 413")
    assert envelope(json.loads(body))["code"] == "request_too_large"


async def test_chunked_body_over_the_limit_is_a_413():
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b" " * 1024

    async with emulator_stack(max_body_bytes=8 * 1024) as stack:
        response = await post_raw(stack, chunks())
        await assert_refused(stack, response, 413, "request_too_large")


async def test_body_at_the_limit_is_accepted():
    body = json.dumps(chat_body()).encode()
    async with emulator_stack(max_body_bytes=len(body)) as stack:
        assert (await post_raw(stack, body)).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "image/png",
        "text/html; x=json",
        "application/jsonp",
        "text/plain",
        "text/json-ish",
    ],
)
async def test_wrong_content_type_is_a_415(content_type):
    async with emulator_stack() as stack:
        response = await post_raw(stack, json.dumps(chat_body()), **{"content-type": content_type})
        await assert_refused(stack, response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"not json",
        b'{"model": "x",}',
        b"\xff\xfe{}",
        b'{"a": "\\ud800"}',
        b"1e400",
        b'{"model": NaN}',
        b"[" * 1025 + b"]" * 1025,
    ],
    ids=[
        "truncated",
        "text",
        "trailing-comma",
        "bad-utf8",
        "lone-surrogate",
        "infinity",
        "nan",
        "depth-1025",
    ],
)
async def test_unparseable_json_is_a_400_invalid_json(body):
    async with emulator_stack() as stack:
        error = await assert_refused(stack, await post_raw(stack, body), 400, "invalid_json")
        assert error["param"] == "body"


@pytest.mark.parametrize("where", ["generationConfig", "google", "metadata", "tools", "schema"])
async def test_nesting_deeper_than_forwarding_allows_is_a_400_not_a_500(where):
    deep = nested(300)
    body: dict[str, Any] = chat_body()
    if where == "tools":
        body["tools"] = [{"type": "function", "function": {"name": "f", "parameters": deep}}]
    elif where == "schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "s", "schema": deep},
        }
    else:
        body[where] = deep
    async with emulator_stack() as stack:
        await assert_refused(stack, await post_raw(stack, json.dumps(body)), 400, "invalid_json")


async def test_nesting_within_the_limit_is_not_refused_for_its_depth():
    body = chat_body()
    body["metadata"] = nested(MAX_JSON_DEPTH - 1)  # + the body itself = exactly the limit
    async with emulator_stack() as stack:
        assert (await post_raw(stack, json.dumps(body))).status_code == 200


def test_depth_walk_counts_levels_exactly():
    assert not nesting_exceeds(nested(5), 5)
    assert nesting_exceeds(nested(6), 5)
    assert nesting_exceeds([[[[[[1]]]]]], 5)
    assert not nesting_exceeds({"a": "x" * 10_000, "b": [1, 2, {"c": []}]}, 4)
    assert nesting_exceeds({"a": "x" * 10_000, "b": [1, 2, {"c": []}]}, 3)
    assert not nesting_exceeds(42, 0)


@pytest.mark.parametrize("where", ["tool_result", "tool_arguments"])
async def test_deep_json_inside_a_tool_string_is_a_client_error(where):
    deep = json.dumps(nested(300))
    args = deep if where == "tool_arguments" else "{}"
    result = deep if where == "tool_result" else "ok"
    body = {
        "model": "gemini-2.5-flash",
        "messages": [
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": args}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": result},
        ],
    }
    async with emulator_stack() as stack:
        response = await post_raw(stack, json.dumps(body))
        assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 1e308),
        ("max_tokens", 10**30),
        ("seed", 2**64),
        ("n", -(10**20)),
        ("top_p", -1e-320),
    ],
)
async def test_huge_numbers_are_client_errors(field, value):
    body = {**chat_body(), field: value}
    async with emulator_stack() as stack:
        response = await post_raw(stack, json.dumps(body))
        error = await assert_refused(stack, response, 400, None)
        assert error["param"] == field


async def test_utf8_bom_is_ignored():
    async with emulator_stack() as stack:
        response = await post_raw(stack, b"\xef\xbb\xbf" + json.dumps(chat_body()).encode())
        assert response.status_code == 200


@pytest.mark.parametrize("body", [b"", b"   ", b"null", b"[]", b'"text"', b"42", b"{}"])
async def test_bodies_that_are_not_a_request_object_are_400s(body):
    async with emulator_stack() as stack:
        await assert_refused(stack, await post_raw(stack, body), 400, None)


async def test_duplicate_keys_take_the_last_value():
    raw = b'{"model": "nope", "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x"}]}'
    async with emulator_stack() as stack:
        assert (await post_raw(stack, raw)).status_code == 200


async def test_a_million_item_array_is_a_fast_400():
    body = {**chat_body(), "messages": [1] * 1_000_000}
    async with emulator_stack() as stack:
        response = await post_raw(stack, json.dumps(body))
        error = await assert_refused(stack, response, 400, "too_many_messages")
        assert error["param"] == "messages"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=utf-8", "application/vnd.api+json"],
)
async def test_json_media_types_are_accepted(content_type):
    async with emulator_stack() as stack:
        response = await post_raw(stack, json.dumps(chat_body()), **{"content-type": content_type})
    assert response.status_code == 200, response.text[:300]


async def test_a_trailing_slash_is_a_404_naming_the_path_never_a_redirect_to_the_host_header():
    """Starlette redirected `/healthz/` to `http://<Host header>/healthz`: any host a client
    named. Now no redirect at all; the 404 says which path exists."""
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.get("/healthz/", headers={"host": "evil.example"})
        posted = await http.post(
            URL + "/", content=json.dumps(chat_body()), headers={**JSON, "host": "evil.example"}
        )
    for answer in (response, posted):
        assert answer.status_code == 404 and "location" not in answer.headers
        assert "evil.example" not in answer.text
    assert "did you mean /healthz?" in envelope(response.json())["message"]


async def test_unknown_route_and_method_are_envelopes():
    async with emulator_stack() as stack, stack.http() as http:
        missing = await http.get("/v1/nothing-here")
        wrong = await http.get(URL)
    assert missing.status_code == 404 and envelope(missing.json())["code"] == "not_found"
    assert wrong.status_code == 405 and envelope(wrong.json())["code"] == "method_not_allowed"


async def test_a_client_leaving_mid_body_is_a_499_not_an_unhandled_error(caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    app = build_app(make_settings())
    with serve(app) as url:
        host, port = url.removeprefix("http://").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n"
            b'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": '
        )
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        done = await eventually(lambda: any(r.msg == "request" for r in caplog.records))
    assert done
    (line,) = [r for r in caplog.records if r.msg == "request"]
    assert line.status == 499 and line.bytes_in == len(b'{"model": ')
    assert not [r for r in caplog.records if r.msg == "unhandled error"]
