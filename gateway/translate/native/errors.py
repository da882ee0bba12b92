"""Errors on the native surface in Google's own shape, `{"error": {"code", "message", "status"}}`,
which google-genai's error classes and raw-REST callers parse (not the OpenAI envelope).

An error Gemini itself sent (a 4xx, a quota 429) goes back as Gemini's own error object, details
included; the gateway's own errors (auth, limits, bad JSON, upstream unreachable) get the
canonical status name of their HTTP status.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from gateway.errors import GatewayError

# HTTP status -> google.rpc.Code name, as Google's APIs map them.
STATUS_NAMES: Final[dict[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_name(status: int) -> str:
    if status in STATUS_NAMES:
        return STATUS_NAMES[status]
    return "FAILED_PRECONDITION" if 400 <= status < 500 else "UNKNOWN"


def google_error(err: GatewayError) -> dict[str, Any]:
    """The error object (the value under "error") for `err`."""
    upstream = _upstream_error_object(err)
    if upstream is not None:
        return upstream
    return {"code": err.status, "message": err.message, "status": status_name(err.status)}


def google_envelope(err: GatewayError) -> dict[str, Any]:
    return {"error": google_error(err)}


def _upstream_error_object(err: GatewayError) -> dict[str, Any] | None:
    """Gemini's own error object, when `err` came from a Gemini error body with one."""
    body = err.upstream_body
    if not body:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    error = dict(error)
    error["code"] = err.status  # the status the client gets (a refused key may become 401)
    error.setdefault("status", status_name(err.status))
    return error
