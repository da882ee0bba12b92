"""What a 502/504 and the upstream warning say: the host (never the path, query or key) and
the kind of failure, read through the exception chains aiohttp and httpx build."""

from __future__ import annotations

import logging
import socket
import ssl

import aiohttp
import httpx
import orjson
import pytest

from gateway.errors import UpstreamConnectError, UpstreamError
from gateway.logs import JsonFormatter, RequestIdFilter, request_id_var
from gateway.upstream.failure import (
    KIND_CODES,
    deadline_error,
    failure_code,
    failure_kind,
    log_attempt,
    upstream_host,
)


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


def test_the_host_keeps_only_host_and_port() -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIzaSECRET"
    assert upstream_host(url) == "generativelanguage.googleapis.com:443"
    assert upstream_host("http://127.0.0.1:9/x") == "127.0.0.1:9"
    assert upstream_host("http://[::1/x") == "an unparseable URL"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (chained(httpx.ConnectError("boom"), OSError("all failed")), "ConnectError"),
        (
            chained(httpx.ConnectError("x"), chained(OSError("x"), ConnectionRefusedError())),
            "connection refused",
        ),
        (chained(httpx.ConnectError("x"), socket.gaierror(-2, "unknown")), "DNS lookup failed"),
        (chained(httpx.ConnectError("x"), ssl.SSLError("bad record")), "TLS handshake failed"),
        (
            chained(httpx.ConnectError("x"), ssl.SSLCertVerificationError("self-signed")),
            "TLS certificate verification failed",
        ),
        (httpx.ReadTimeout("slow"), "ReadTimeout"),
        (chained(httpx.ReadTimeout("slow"), TimeoutError()), "timed out"),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError"),
        (chained(RuntimeError("x"), ConnectionResetError()), "connection reset"),
    ],
)
def test_the_failure_kind_is_found_along_the_chain(exc: BaseException, kind: str) -> None:
    assert failure_kind(exc) == kind


def test_failure_codes_are_short_words_for_machines() -> None:
    refused = chained(httpx.ConnectError("x"), ConnectionRefusedError())
    assert failure_code(refused) == "refused"
    assert failure_code(chained(httpx.ReadTimeout("slow"), TimeoutError())) == "timeout"
    assert failure_code(httpx.ConnectError("boom")) == "error"
    assert set(KIND_CODES.values()) == {"refused", "reset", "dns", "tls", "timeout"}


def test_aiohttp_keeps_the_os_error_aside() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    exc = aiohttp.ClientConnectorError(key, socket.gaierror(-2, "Name or service not known"))
    assert failure_kind(exc) == "DNS lookup failed"


def test_a_5xx_is_a_warning_with_request_id_host_and_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.upstream")
    token = request_id_var.set("req_obs")
    try:
        err = UpstreamError("Gemini upstream answered HTTP 503", status_code=503)
        log_attempt(err, "https://gemini.example:8443/v1beta/m?key=SECRET", 0, True, 0.5)
        log_attempt(UpstreamConnectError("refused"), "http://127.0.0.1:9/x", 2, False, 1.0)
        line = next(format_as_shipped(r) for r in caplog.records)
    finally:
        request_id_var.reset(token)
    warning, decision, refused, gave_up = caplog.records
    assert (warning.levelno, decision.levelno) == (logging.WARNING, logging.DEBUG)
    assert (warning.upstream_host, warning.status, warning.attempt) == (
        "gemini.example:8443",
        503,
        1,
    )  # type: ignore[attr-defined]
    assert (decision.retry, decision.wait_s) == (True, 0.5)  # type: ignore[attr-defined]
    assert (refused.levelno, refused.status, refused.code) == (
        logging.WARNING,
        502,
        "upstream_unreachable",
    )  # type: ignore[attr-defined]
    assert (gave_up.levelno, gave_up.retry, gave_up.attempt) == (logging.DEBUG, False, 3)  # type: ignore[attr-defined]
    assert "SECRET" not in caplog.text
    shipped = orjson.loads(line)
    assert shipped["level"] == "warning" and shipped["request_id"] == "req_obs"
    assert (shipped["upstream_host"], shipped["status"]) == ("gemini.example:8443", 503)


def format_as_shipped(record: logging.LogRecord) -> str:
    """The JSON line the gateway's own handler writes (its filter adds the request id)."""
    RequestIdFilter().filter(record)
    return JsonFormatter().format(record)


def test_a_4xx_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.upstream")
    log_attempt(UpstreamError("bad", status_code=400), "http://127.0.0.1:9/x", 0, False, 0.1)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


def test_the_total_deadline_is_a_504_naming_the_host_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.upstream")
    err = deadline_error("https://gemini.example/v1beta/m:generateContent?key=SECRET")
    assert (err.status, err.code) == (504, "upstream_timeout")
    assert err.message.endswith("total deadline (gemini.example:443)")
    (record,) = caplog.records
    assert (record.levelno, record.upstream_host) == (logging.WARNING, "gemini.example:443")  # type: ignore[attr-defined]
    assert "SECRET" not in caplog.text
