"""finishReason → finish_reason for every reason google-genai knows (completeness), against a
table written here from the reasons' meanings (correctness); and real Gemini error bodies →
the status, type and code a client sees."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.genai import types
from response_cases import SAMPLES

from gateway.errors import to_envelope
from gateway.translate.response.finish import (
    GEMINI_FINISH_TO_OPENAI,
    explain_finish,
    to_openai_finish_reason,
)
from gateway.translate.response.upstream_errors import to_gateway_error

# Written from the SDK's docstrings, not copied from the gateway's table.
EXPECTED_FINISH: dict[str, str] = {
    "FINISH_REASON_UNSPECIFIED": "stop",
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",  # per-request token limit reached, generation not complete
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",  # flagged for an unsupported language: content withheld
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "IMAGE_OTHER": "content_filter",  # the image is withheld, with the reason in content
    "MODEL_ARMOR": "content_filter",
    "ESCALATION": "content_filter",  # filtered by an escalation rule
    "PUP_LIMITED_DISABLED": "content_filter",  # account limited for policy violations
    "NO_IMAGE": "stop",  # design.md: stop, with an explanation in content
    "OTHER": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
    "UNEXPECTED_TOOL_CALL": "stop",
    "TOO_MANY_TOOL_CALLS": "stop",
    "MISSING_THOUGHT_SIGNATURE": "stop",
    "MALFORMED_RESPONSE": "stop",
}
SDK_REASONS = [member.value for member in types.FinishReason]


def test_the_expected_table_covers_every_sdk_reason() -> None:
    assert set(EXPECTED_FINISH) == set(SDK_REASONS)


@pytest.mark.parametrize("reason", SDK_REASONS)
def test_finish_reason(reason: str) -> None:
    assert reason in GEMINI_FINISH_TO_OPENAI, "every reason is in the table, none by default"
    assert to_openai_finish_reason(reason, False) == EXPECTED_FINISH[reason]


@pytest.mark.parametrize("reason", [r for r, v in EXPECTED_FINISH.items() if v == "content_filter"])
def test_every_filtered_ending_says_why(reason: str) -> None:
    """A content_filter choice may have no content at all: the client gets a sentence."""
    text = explain_finish(reason, None)
    assert text is not None and reason in text


@pytest.mark.parametrize(
    ("reason", "has_calls", "expected"),
    [
        ("STOP", True, "tool_calls"),
        (None, True, "tool_calls"),
        (None, False, "stop"),
        ("MAX_TOKENS", True, "length"),
        ("SAFETY", True, "content_filter"),
        ("A_REASON_FROM_THE_FUTURE", False, "stop"),
    ],
)
def test_finish_reason_with_tool_calls(reason: str | None, has_calls: bool, expected: str) -> None:
    assert to_openai_finish_reason(reason, has_calls) == expected


def sample(name: str) -> bytes:
    return next(SAMPLES.glob(f"{name}_*")).read_bytes()


def thinking_errors() -> list[bytes]:
    wrapper = orjson.loads(sample("13"))
    return [orjson.dumps(v) for v in wrapper.values() if isinstance(v, dict) and "error" in v]


def envelope(status: int, body: bytes, retry_after: str | None = None) -> tuple[int, Any, Any]:
    err = to_gateway_error(status, body, retry_after)
    error = to_envelope(err)["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["param"] is None
    return err.status, error["type"], error["code"]


def test_sample_11_missing_signature_keeps_status_and_message() -> None:
    err = to_gateway_error(400, sample("11"), None)
    assert envelope(400, sample("11")) == (400, "invalid_request_error", "invalid_argument")
    assert "missing a thought_signature" in err.message


def test_sample_12_rate_limit_carries_retry_after() -> None:
    err = to_gateway_error(429, sample("12"), None)
    assert envelope(429, sample("12")) == (429, "rate_limit_error", "rate_limit_exceeded")
    assert err.retry_after == pytest.approx(34.4)
    assert err.headers() == {"retry-after": "35", "retry-after-ms": "34400"}


@pytest.mark.parametrize("body", thinking_errors(), ids=["minimal-level", "budget-and-level"])
def test_sample_13_thinking_config_errors(body: bytes) -> None:
    assert envelope(400, body) == (400, "invalid_request_error", "invalid_argument")
    assert orjson.loads(body)["error"]["message"] in to_gateway_error(400, body, None).message


def test_sample_14_invalid_api_key_is_a_401() -> None:
    assert envelope(400, sample("14")) == (401, "invalid_request_error", "invalid_api_key")


def test_sample_15_unknown_model_is_a_404() -> None:
    err = to_gateway_error(404, sample("15"), None)
    assert envelope(404, sample("15")) == (404, "invalid_request_error", "model_not_found")
    assert "gemini-5.0-flash is not found" in err.message


def test_an_array_wrapped_error_reads_like_the_bare_one() -> None:
    wrapped = b"[" + sample("12") + b"]"
    assert envelope(429, wrapped) == envelope(429, sample("12"))
    assert to_gateway_error(429, wrapped, None).retry_after == pytest.approx(34.4)


def test_a_per_day_quota_is_insufficient_quota_and_not_retried() -> None:
    body = orjson.loads(sample("12"))
    body["error"]["details"][0]["violations"][0]["quotaId"] = "GenerateRequestsPerDayPerProject"
    err = to_gateway_error(429, orjson.dumps(body), None)
    assert (err.status, err.error_type, err.code) == (
        429,
        "insufficient_quota",
        "insufficient_quota",
    )
    assert err.headers() == {"x-should-retry": "false"}


def test_retry_after_header_is_the_fallback() -> None:
    body = b'{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}'
    assert to_gateway_error(429, body, "7").retry_after == 7.0
    assert to_gateway_error(429, body, "Wed, 21 Oct 2015 07:28:00 GMT").retry_after is None


@pytest.mark.parametrize(
    ("status", "gemini_status", "expected"),
    [
        (403, "PERMISSION_DENIED", (403, "permission_error", "permission_denied")),
        (500, "INTERNAL", (500, "server_error", "upstream_error")),
        (503, "UNAVAILABLE", (503, "server_error", "upstream_overloaded")),
        (504, "DEADLINE_EXCEEDED", (504, "server_error", "upstream_timeout")),
    ],
)
def test_gemini_statuses_pass_through(
    status: int, gemini_status: str, expected: tuple[int, str, str]
) -> None:
    body = orjson.dumps({"error": {"code": status, "message": "m", "status": gemini_status}})
    assert envelope(status, body) == expected


@pytest.mark.parametrize("status", [400, 404, 429])
def test_an_html_page_is_a_bad_gateway(status: int) -> None:
    page = b"<!DOCTYPE html><html><body>Error 404 (Not Found)!!1</body></html>"
    err = to_gateway_error(status, page, None)
    assert (err.status, err.error_type) == (502, "server_error")
    assert "HTML" in err.message


def test_a_5xx_that_is_not_json_keeps_its_status() -> None:
    err = to_gateway_error(503, b"upstream connect error or disconnect/reset", None)
    assert (err.status, err.error_type) == (503, "server_error")


def test_a_string_error_from_a_proxy_keeps_status_and_words() -> None:
    err = to_gateway_error(400, b'{"error": "model is required"}', None)
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert "model is required" in err.message
