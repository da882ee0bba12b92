"""The answer beyond GATEWAY_MAX_CONCURRENCY, in the shape of the surface that was called.

uvicorn refuses a request over `limit_concurrency` before any app runs, with its own plain-text
"Service Unavailable": the OpenAI SDK then reports no code and google-genai a status that is not
one of Google's. The HTTP protocol (gateway/http_protocol.py) hands such a request to this app
instead: a 503 `server_busy` with `retry-after`, in OpenAI's envelope on OpenAI routes and in
Google's `{"error": {"code", "message", "status"}}` on the native routes. The connection still
closes (`connection: close`, as uvicorn does): it counts towards the cap.

The operator's probes are never refused (`EXEMPT`): `/healthz` is liveness ("200 while the
process answers", README), and a 503 there when the gateway is merely busy makes an orchestrator
restart a saturated pod, killing every request in flight; `/metrics` must answer exactly when
the gateway is saturated. Both are cheap and touch neither Gemini nor the store. `/readyz` stays
capped: not ready while full is what a balancer should hear.
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


EXEMPT = frozenset({"/healthz", "/metrics"})


def route_path(scope: Scope) -> str:
    """The request's path below any --root-path."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def exempt(scope: Scope) -> bool:
    """Whether this request is served even beyond the cap (see the module docstring)."""
    return route_path(scope) in EXEMPT


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app: reads nothing, answers at once."""
    path = route_path(scope)
    err = busy_error()
    response = google_error_response(err) if is_native_path(path) else error_response(err)
    response.headers["connection"] = "close"
    await response(scope, receive, send)
