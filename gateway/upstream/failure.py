"""What failed on the way to Gemini, in words an operator can act on: the upstream's host and
port (never the path or query, where a key may ride) and the kind of failure (refused, TLS, DNS,
timeout, reset). Both wires build their 502/504 messages here, so they say the same thing.
The upstream's log lines live here too: each call at debug, one warning per failing request."""

from __future__ import annotations

import logging
import socket
import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit

from gateway.errors import GatewayError, UpstreamTimeoutError

log = logging.getLogger("gateway.upstream")
MAX_CHAIN = 8  # exception causes followed; wrappers nest two or three deep
_SECRET_PARAMS = frozenset({"key", "access_token", "token", "api_key"})


def upstream_host(url: str) -> str:
    """`host:port` of `url`; nothing else of it (keys travel in queries and headers)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "an unparseable URL"
    default = 443 if parts.scheme == "https" else 80
    return f"{host}:{port or default}" if host else "an unparseable URL"


def failure_kind(exc: BaseException) -> str:
    """The first recognised cause along the exception's chain (`os_error`, `__cause__`,
    `__context__`): the wrappers of aiohttp and httpx differ, the OS errors under them do not."""
    seen: BaseException | None = exc
    for _ in range(MAX_CHAIN):
        if seen is None:
            break
        kind = _kind_of(seen)
        if kind:
            return kind
        inner = getattr(seen, "os_error", None)
        nxt = inner if isinstance(inner, BaseException) and inner is not seen else None
        seen = nxt or seen.__cause__ or seen.__context__
    return type(exc).__name__


# failure_kind's words as short, stable codes for machines (/readyz's `kind`)
KIND_CODES = {
    "connection refused": "refused",
    "connection reset": "reset",
    "DNS lookup failed": "dns",
    "TLS certificate verification failed": "tls",
    "TLS handshake failed": "tls",
    "TLS failed": "tls",
    "timed out": "timeout",
}


def failure_code(exc: BaseException) -> str:
    """`failure_kind` as a code: refused, reset, dns, tls, timeout; `error` for anything else."""
    return KIND_CODES.get(failure_kind(exc), "error")


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, TimeoutError):
        return "timed out"
    name = type(exc).__name__
    if "DNS" in name:  # aiohttp.ClientConnectorDNSError keeps the gaierror only as its os_error
        return "DNS lookup failed"
    if "SSL" in name or "Certificate" in name:
        return "TLS failed"
    return ""


def safe_url(url: str) -> str:
    """`url` for a log line: scheme, host, port and path, and a query without any parameter
    that could hold a credential (keys travel in headers, but a base URL may carry one)."""
    try:
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_PARAMS]
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unparseable URL"
    base = f"{parts.scheme}://{host}{port}{parts.path}"
    return f"{base}?{urlencode(query)}" if query else base


def model_of(url: str) -> str:
    """The model a call's URL names (`…/models/{model}:{method}`), or empty for other calls."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    model, colon, _ = last.partition(":")
    return model if colon else ""


def log_call(method: str, url: str, attempt: int) -> None:
    """Each attempt at debug: where it goes, never with what key."""
    extra = {"method": method, "upstream_url": safe_url(url), "attempt": attempt + 1}
    log.debug("upstream call", extra={**extra, "model": model_of(url)})


def log_attempt(
    err: GatewayError, url: str, attempt: int, retry: bool, wait: float, warned: bool
) -> bool:
    """One failed attempt: the retry decision at debug and, the first time a request meets a
    5xx, a timeout or an unreachable upstream, one warning (not one per retry: the access line
    counts the attempts). Returns whether the request has had its warning. The request id
    comes from the log filter."""
    fields: dict[str, object] = {
        "upstream_host": upstream_host(url),
        "model": model_of(url),
        "status": err.status,
        "code": err.code,
        "attempt": attempt + 1,
    }
    if err.status >= 500 and not warned:
        log.warning("upstream call failed: %s", err.message, extra={**fields, "retry": retry})
        warned = True
    log.debug(
        "retrying upstream call" if retry else "not retrying upstream call",
        extra={**fields, "retry": retry, "wait_s": round(wait, 3), "why": err.message},
    )
    return warned


def read_failed(err: GatewayError, url: str, warned: bool) -> bool:
    """Reading an answer failed after its headers (a timeout between chunks, a reset): the
    request's one warning unless it had it. Returns whether it has had it."""
    if err.status >= 500 and not warned:
        fields = {"upstream_host": upstream_host(url), "model": model_of(url), "status": err.status}
        log.warning("upstream call failed: %s", err.message, extra={**fields, "code": err.code})
    return warned or err.status >= 500


def deadline_error(url: str, warned: bool = False) -> UpstreamTimeoutError:
    """The total deadline ran out (GATEWAY_TOTAL_TIMEOUT): a 504 naming the host, logged at
    warning like a failed attempt (unless the request already had its warning)."""
    where = upstream_host(url)
    err = UpstreamTimeoutError(f"Gemini did not answer within the total deadline ({where})")
    if not warned:
        extra = {"upstream_host": where, "model": model_of(url), "status": err.status}
        log.warning("upstream call failed: %s", err.message, extra={**extra, "code": err.code})
    return err
