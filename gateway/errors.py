"""Every error the gateway raises, and the OpenAI envelope each becomes.

    GatewayError                       500 server_error
    ├── InvalidRequestError            400 invalid_request_error (param: JSON path of culprit)
    │   ├── InvalidImageUrlError       400 invalid_request_error / invalid_image_url
    │   └── ContextLengthError         400 invalid_request_error / context_length_exceeded
    ├── RequestTooLargeError           413 invalid_request_error / request_too_large
    ├── UnsupportedMediaTypeError      415 invalid_request_error / unsupported_media_type
    ├── AuthenticationError            401 invalid_request_error / invalid_api_key
    ├── PermissionDeniedError          403 permission_error
    ├── NotFoundError                  404 invalid_request_error / not_found
    ├── MethodNotAllowedError          405 invalid_request_error / method_not_allowed
    ├── RequestTimeoutError            408 invalid_request_error / request_timeout (slow body)
    ├── ClientClosedError              499 invalid_request_error / client_closed (nobody reads it)
    ├── RateLimitError                 429 rate_limit_error / rate_limit_exceeded (retry_after)
    │   └── InsufficientQuotaError     429 insufficient_quota (no retry)
    ├── UpstreamError                  502 server_error / upstream_error (Gemini 5xx, bad bodies)
    │   ├── UpstreamUnavailableError   503 server_error / upstream_overloaded
    │   ├── UpstreamTimeoutError       504 server_error / upstream_timeout
    │   └── UpstreamConnectError       502 server_error / upstream_unreachable
    ├── ShuttingDownError              503 server_error / server_shutting_down
    ├── StateUnavailableError          503 server_error / state_unavailable (Redis down/slow)
    └── ServerBusyError                503 server_error / server_busy (retry_after)

Gemini's own 4xx errors keep their status (design.md): `from_status` picks the class.
One renderer (`to_envelope`) feeds both the JSON error response and the final SSE error event.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None
    # The error body Gemini sent, when this error is one (the native routes relay it).
    upstream_body: bytes | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.retry_after = retry_after
        self.status = status_code if status_code is not None else self.status_code

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        seconds = max(self.retry_after, 0.0)
        return {
            "retry-after": str(max(1, int(-(-seconds // 1)))),
            "retry-after-ms": str(int(seconds * 1000)),
        }


class InvalidRequestError(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"


class InvalidImageUrlError(InvalidRequestError):
    default_code = "invalid_image_url"


class ContextLengthError(InvalidRequestError):
    default_code = "context_length_exceeded"


class RequestTooLargeError(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class UnsupportedMediaTypeError(GatewayError):
    status_code = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class AuthenticationError(GatewayError):
    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    status_code = 403
    error_type = "permission_error"


class NotFoundError(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class MethodNotAllowedError(GatewayError):
    status_code = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


class RequestTimeoutError(GatewayError):
    status_code = 408
    error_type = "invalid_request_error"
    default_code = "request_timeout"


class ClientClosedError(GatewayError):
    """The client left before the request was read; the status only reaches logs and metrics."""

    status_code = 499
    error_type = "invalid_request_error"
    default_code = "client_closed"


class RateLimitError(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class InsufficientQuotaError(RateLimitError):
    """A per-day quota: retrying within the day cannot succeed, so tell the SDK not to."""

    error_type = "insufficient_quota"
    default_code = "insufficient_quota"

    def headers(self) -> dict[str, str]:
        return {"x-should-retry": "false"}


class UpstreamError(GatewayError):
    status_code = 502
    error_type = "server_error"
    default_code = "upstream_error"


class UpstreamUnavailableError(UpstreamError):
    status_code = 503
    default_code = "upstream_overloaded"


class UpstreamTimeoutError(UpstreamError):
    status_code = 504
    default_code = "upstream_timeout"


class UpstreamConnectError(UpstreamError):
    status_code = 502
    default_code = "upstream_unreachable"


class ShuttingDownError(GatewayError):
    status_code = 503
    error_type = "server_error"
    default_code = "server_shutting_down"


class StateUnavailableError(GatewayError):
    """Only for what cannot be served without the state store (a hosted image by URL): every
    other request degrades to stateless behaviour instead."""

    status_code = 503
    error_type = "server_error"
    default_code = "state_unavailable"


class ServerBusyError(GatewayError):
    status_code = 503
    error_type = "server_error"
    default_code = "server_busy"


_BY_STATUS: dict[int, type[GatewayError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    429: RateLimitError,
    502: UpstreamError,
    503: UpstreamUnavailableError,
    504: UpstreamTimeoutError,
}


def from_status(status: int, message: str, **kwargs: Any) -> GatewayError:
    """The error class for an HTTP status; unknown 4xx stay client errors with their status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = InvalidRequestError if 400 <= status < 500 else UpstreamError
    return cls(message, status_code=status, **kwargs)


def to_envelope(err: GatewayError) -> dict[str, Any]:
    return {
        "error": {
            "message": err.message,
            "type": err.error_type,
            "param": err.param,
            "code": err.code,
        }
    }
