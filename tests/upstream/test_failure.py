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
    model_of,
    safe_url,
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


def test_a_5xx_is_one_warning_per_request_with_host_model_and_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.upstream")
    url = "https://gemini.example:8443/v1beta/models/gemini-2.5-flash:generateContent?key=SECRET"
    token = request_id_var.set("req_obs")
    try:
        err = UpstreamError("Gemini upstream answered HTTP 503", status_code=503)
        warned = log_attempt(err, url, 0, True, 0.5, False)
        again = log_attempt(err, url, 1, True, 0.7, warned)
        refused = UpstreamConnectError("refused")
        other = log_attempt(refused, "http://127.0.0.1:9/x", 2, False, 1.0, False)
        line = next(format_as_shipped(r) for r in caplog.records)
    finally:
        request_id_var.reset(token)
    assert warned and again and other
    warning, decision, second, refused_warning, gave_up = caplog.records
    assert (warning.levelno, decision.levelno, second.levelno) == (30, 10, 10)
    assert (warning.upstream_host, warning.status, warning.attempt, warning.model) == (  # type: ignore[attr-defined]
        "gemini.example:8443",
        503,
        1,
        "gemini-2.5-flash",
    )
    assert (decision.retry, decision.wait_s, decision.why) == (True, 0.5, err.message)  # type: ignore[attr-defined]
    assert (second.attempt, second.wait_s) == (2, 0.7)  # type: ignore[attr-defined]
    assert (refused_warning.levelno, refused_warning.status, refused_warning.code) == (
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
    bad = UpstreamError("bad", status_code=400)
    assert not log_attempt(bad, "http://127.0.0.1:9/x", 0, False, 0.1, False)
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
    deadline_error("https://gemini.example/v1beta/m:generateContent", warned=True)
    assert len(caplog.records) == 1  # the request had its warning already


def test_a_logged_url_keeps_its_path_and_loses_any_credential() -> None:
    url = "https://u:pw@gemini.example:8443/v1beta/models/m:streamGenerateContent?alt=sse&key=K1"
    assert (
        safe_url(url) == "https://gemini.example:8443/v1beta/models/m:streamGenerateContent?alt=sse"
    )
    assert safe_url("http://h/p?access_token=T&KEY=K&pageSize=5") == "http://h/p?pageSize=5"
    assert safe_url("http://[::1/x") == "an unparseable URL"
    assert model_of(url) == "m"
    assert model_of("https://h/v1/projects/p/locations/l/publishers/google/models/g:predict") == "g"
    assert model_of("https://h/v1beta/models?pageSize=5") == ""
