"""The answer beyond GATEWAY_MAX_CONCURRENCY, in the shape of the surface that was called.

uvicorn refuses a request over `limit_concurrency` before any app runs, with its own plain-text
"Service Unavailable": the OpenAI SDK then reports no code and google-genai a status that is not
one of Google's. The HTTP protocol (gateway/http_protocol.py) hands such a request to this app
instead: a 503 `server_busy` with `retry-after`, in OpenAI's envelope on OpenAI routes and in
Google's `{"error": {"code", "message", "status"}}` on the native routes. The connection still
closes (`connection: close`, as uvicorn does): it counts towards the cap.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gateway.errors import ServerBusyError
from gateway.routes.common import error_response
from gateway.routes.native import google_error_response, is_native_path

RETRY_AFTER_SECONDS = 1.0


def busy_error() -> ServerBusyError:
    return ServerBusyError(
        "the gateway is serving as many requests as it allows (GATEWAY_MAX_CONCURRENCY); "
        "retry shortly",
        retry_after=RETRY_AFTER_SECONDS,
    )


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app: reads nothing, answers at once."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    err = busy_error()
    response = google_error_response(err) if is_native_path(path) else error_response(err)
    response.headers["connection"] = "close"
    await response(scope, receive, send)
