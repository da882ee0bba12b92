"""Gemini error bodies → GatewayError, once, at the boundary (status kept, message kept)."""

from __future__ import annotations

from typing import Any, Final

import orjson

from gateway.errors import GatewayError, InsufficientQuotaError, from_status

GEMINI_STATUS_TO_CODE: Final[dict[str, str]] = {
    "INVALID_ARGUMENT": "invalid_argument",
    "FAILED_PRECONDITION": "failed_precondition",
    "PERMISSION_DENIED": "permission_denied",
    "NOT_FOUND": "model_not_found",
    "RESOURCE_EXHAUSTED": "rate_limit_exceeded",
    "INTERNAL": "upstream_error",
    "UNAVAILABLE": "upstream_overloaded",
    "DEADLINE_EXCEEDED": "upstream_timeout",
    "UNAUTHENTICATED": "invalid_api_key",
}


def parse_duration(value: object) -> float | None:
    """`"34.4s"` → 34.4 (protobuf Duration JSON form)."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    return None


def _error_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]  # Google sometimes wraps the error in an array
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str) and error:
        return {"message": error}  # proxies in front of Gemini answer `{"error": "..."}`
    return error if isinstance(error, dict) else None


def _details(error: dict[str, Any]) -> tuple[float | None, bool, str | None]:
    retry_after: float | None = None
    per_day = False
    reason: str | None = None
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("RetryInfo"):
            retry_after = parse_duration(detail.get("retryDelay"))
        elif kind.endswith("QuotaFailure"):
            per_day = any(
                "PerDay" in str(v.get("quotaId", "")) for v in detail.get("violations", [])
            )
        elif kind.endswith("ErrorInfo"):
            reason = detail.get("reason")
    return retry_after, per_day, reason


def to_gateway_error(status: int, body: bytes, retry_after_header: str | None) -> GatewayError:
    error = _error_object(body)
    if error is None:
        snippet = "an HTML page" if body.lstrip()[:1] == b"<" else "a body that is not JSON"
        return from_status(
            status if status >= 500 else 502,
            f"Gemini upstream answered HTTP {status} with {snippet}",
        )
    message = str(error.get("message") or f"Gemini returned HTTP {status}")
    retry_after, per_day, reason = _details(error)
    if retry_after is None and retry_after_header:
        try:
            retry_after = float(retry_after_header)
        except ValueError:
            retry_after = None
    gemini_status = str(error.get("status") or "")
    code = GEMINI_STATUS_TO_CODE.get(gemini_status, gemini_status.lower() or None)
    if reason == "API_KEY_INVALID":
        return from_status(401, f"Gemini rejected the API key: {message}", code="invalid_api_key")
    if status == 429 and per_day:
        return InsufficientQuotaError(f"Gemini quota exhausted: {message}")
    return from_status(status, f"Gemini error: {message}", code=code, retry_after=retry_after)
