"""Gemini-shaped errors, so the gateway's error mapping is tested against Google's real envelope."""

from __future__ import annotations

from typing import Any, Final

RPC_STATUS: Final[dict[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "RESOURCE_EXHAUSTED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DEFAULT_MESSAGES: Final[dict[int, str]] = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, head to: "
        "https://ai.google.dev/gemini-api/docs/rate-limits."
    ),
    499: "The operation was cancelled.",
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    ),
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

TYPE_PREFIX: Final = "type.googleapis.com/google.rpc."


class GeminiError(Exception):
    """An error the emulator answers with, rendered exactly like Gemini's error body."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        text = message if message is not None else DEFAULT_MESSAGES.get(code, "Error.")
        super().__init__(text)
        self.code = code
        self.message = text
        self.status = status or RPC_STATUS.get(code, "UNKNOWN")
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid_argument(message: str, field: str | None = None) -> GeminiError:
    """A 400 INVALID_ARGUMENT; with `field`, a BadRequest detail names the culprit, as Google."""
    details: list[dict[str, Any]] = []
    if field is not None:
        violation = {"field": field, "description": message}
        details.append({"@type": TYPE_PREFIX + "BadRequest", "fieldViolations": [violation]})
    return GeminiError(400, message, details=details)


def unknown_field(name: str, where: str | None = None) -> GeminiError:
    """The proto JSON parser's rejection of a key it does not know."""
    location = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{location}: Cannot find field.'
    return invalid_argument(message, where or name)


def api_key_invalid() -> GeminiError:
    """Sample 14, minus the key itself: the emulator never echoes a secret back."""
    message = "API key not valid. Please pass a valid API key."
    details: list[dict[str, Any]] = [
        {
            "@type": TYPE_PREFIX + "ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {"@type": TYPE_PREFIX + "LocalizedMessage", "locale": "en-US", "message": message},
    ]
    return GeminiError(400, message, details=details)


def unregistered_caller() -> GeminiError:
    message = (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
    return GeminiError(403, message)


def model_not_found(model_id: str, version: str, method: str) -> GeminiError:
    """Sample 15's wording, with the method the caller used."""
    message = (
        f"models/{model_id} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported "
        "methods."
    )
    return GeminiError(
        404, message, details=[{"@type": TYPE_PREFIX + "DebugInfo", "detail": message}]
    )


def quota_exceeded(model_id: str, retry_delay: str, *, per_day: bool) -> GeminiError:
    """A 429 carrying QuotaFailure and RetryInfo, the two details a client needs to back off."""
    period = "PerDay" if per_day else "PerMinute"
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": f"GenerateRequests{period}PerProjectPerModel-FreeTier",
        "quotaDimensions": {"location": "global", "model": model_id},
        "quotaValue": "250" if per_day else "10",
    }
    details: list[dict[str, Any]] = [
        {"@type": TYPE_PREFIX + "QuotaFailure", "violations": [violation]},
        {
            "@type": TYPE_PREFIX + "Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": retry_delay},
    ]
    return GeminiError(429, details=details)
