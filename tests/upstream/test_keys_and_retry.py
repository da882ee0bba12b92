"""Key rotation and rest, retry policy and backoff, and the Gemini error mapping's edge cases."""

from __future__ import annotations

import random

import orjson
import pytest

from gateway.errors import (
    InsufficientQuotaError,
    InvalidRequestError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from gateway.translate.response.upstream_errors import to_gateway_error
from gateway.upstream.keys import KeyRing, key_label
from gateway.upstream.retry import backoff, should_retry


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_keys_rotate_and_a_resting_key_is_skipped_until_it_wakes():
    clock = Clock()
    ring = KeyRing(("a", "b", "c"), clock)
    assert [ring.pick() for _ in range(4)] == ["a", "b", "c", "a"]
    ring.rest("b", 30)
    assert [ring.pick() for _ in range(4)] == ["c", "a", "c", "a"]
    clock.now += 31
    assert "b" in {ring.pick() for _ in range(3)}


def test_when_every_key_rests_the_one_that_wakes_first_is_used():
    clock = Clock()
    ring = KeyRing(("a", "b"), clock)
    ring.rest("a", 60)
    ring.rest("b", 10)
    assert ring.pick() == "b"


def test_rest_ignores_unknown_keys_and_has_a_floor():
    clock = Clock()
    ring = KeyRing(("a",), clock)
    ring.rest("pass-through", 60)
    ring.rest("a", 0.01)
    clock.now += 0.5
    assert ring.pick() == "a"  # resting, but the only key
    assert not KeyRing(())
    assert KeyRing(()).pick() is None


def test_key_labels_do_not_contain_the_key():
    label = key_label("AIzaSECRET1234567890")
    assert label.startswith("key-") and "SECRET" not in label
    assert label == key_label("AIzaSECRET1234567890") != key_label("other")


@pytest.mark.parametrize(
    ("err", "retried"),
    [
        (RateLimitError("x"), True),
        (InsufficientQuotaError("x"), False),
        (UpstreamError("x"), True),
        (UpstreamUnavailableError("x"), True),
        (UpstreamTimeoutError("x"), True),
        (UpstreamError("x", status_code=500), True),
        (InvalidRequestError("x"), False),
        (InvalidRequestError("x", status_code=404), False),
    ],
)
def test_what_is_retried(err, retried):
    assert should_retry(err) is retried


def test_backoff_uses_retry_info_or_bounded_jitter():
    rng = random.Random(7)
    assert backoff(0, 3.5, rng) == 3.5
    waits = [backoff(attempt, None, rng) for attempt in range(6) for _ in range(50)]
    assert min(waits) >= 0.25 and max(waits) <= 2.0


def gemini_error(code: int, **extra: object) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": "m", **extra}})


def test_retry_info_and_quota_details_are_read():
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]
    err = to_gateway_error(
        429, gemini_error(429, status="RESOURCE_EXHAUSTED", details=details), None
    )
    assert isinstance(err, RateLimitError) and err.retry_after == 12.5
    assert err.headers() == {"retry-after": "13", "retry-after-ms": "12500"}
    per_day = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}],
        }
    ]
    quota = to_gateway_error(429, gemini_error(429, details=per_day), None)
    assert isinstance(quota, InsufficientQuotaError)
    assert quota.headers() == {"x-should-retry": "false"}


def test_a_retry_after_header_is_used_when_the_body_has_no_retry_info():
    err = to_gateway_error(503, gemini_error(503, status="UNAVAILABLE"), "7")
    assert err.status == 503 and err.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (502, b"<html>bad gateway</html>", 502),
        (503, b"", 503),
        (404, b"not json", 502),  # a 4xx without Gemini's body is a proxy talking, not Gemini
        (400, b'[{"error": {"code": 400, "message": "m", "status": "INVALID_ARGUMENT"}}]', 400),
        (400, b"[]", 502),
        (500, b'{"error": {"details": [1, "x", null]}}', 500),
    ],
)
def test_odd_error_bodies_map_to_sane_statuses(status, body, expected):
    err = to_gateway_error(status, body, None)
    assert err.status == expected
    assert "<html" not in err.message
