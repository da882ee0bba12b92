"""Google's error shape for every error of the native routes: Gemini's own object relayed, the
gateway's own errors given the canonical status name of their HTTP status."""

from __future__ import annotations

import orjson

from gateway.errors import (
    AuthenticationError,
    InvalidRequestError,
    UpstreamTimeoutError,
    from_status,
)
from gateway.translate.native.errors import google_envelope


def test_gateway_errors_get_canonical_status_names() -> None:
    assert google_envelope(AuthenticationError("no key")) == {
        "error": {"code": 401, "message": "no key", "status": "UNAUTHENTICATED"}
    }
    assert google_envelope(InvalidRequestError("bad"))["error"]["status"] == "INVALID_ARGUMENT"
    assert google_envelope(UpstreamTimeoutError("slow"))["error"]["status"] == "DEADLINE_EXCEEDED"


def test_geminis_own_error_object_is_relayed_with_its_details() -> None:
    gemini = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}],
        }
    }
    err = from_status(429, "Gemini error: Resource has been exhausted")
    err.upstream_body = orjson.dumps(gemini)
    assert google_envelope(err) == gemini


def test_an_upstream_body_without_an_error_object_gets_the_gateways_own() -> None:
    err = from_status(502, "Gemini upstream answered HTTP 502 with an HTML page")
    err.upstream_body = b"<html>oops</html>"
    assert google_envelope(err)["error"] == {
        "code": 502,
        "message": "Gemini upstream answered HTTP 502 with an HTML page",
        "status": "UNAVAILABLE",
    }
