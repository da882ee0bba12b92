"""`gemini-gateway healthcheck` (the image's HEALTHCHECK): the configured port, loopback, no proxy."""

from __future__ import annotations

import socket

import pytest

from gateway.app import build_app
from gateway.cli import main
from gateway.healthcheck import check, health_url
from tests.conftest import make_settings
from tests.hardening.loopback import serve


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9000/healthz"),
        ("::", "http://127.0.0.1:9000/healthz"),
        ("127.0.0.1", "http://127.0.0.1:9000/healthz"),
        ("::1", "http://[::1]:9000/healthz"),
    ],
)
def test_asks_the_address_the_gateway_listens_on(host, url):
    assert health_url(make_settings(host=host, port=9000)) == url


def test_healthy_gateway_even_behind_a_proxy_variable(monkeypatch, capsys):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # discard: nothing listens there
    with serve(build_app(make_settings())) as url:
        port = int(url.rsplit(":", 1)[1])
        monkeypatch.setenv("GATEWAY_PORT", str(port))
        assert main(["healthcheck"]) == 0
    assert "healthy" in capsys.readouterr().out


def test_nothing_listening_is_unhealthy(capsys):
    # bound but not listening: refused, and no other process can take the port meanwhile
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        assert check(make_settings(port=held.getsockname()[1])) == 1
    assert capsys.readouterr().out.startswith("unhealthy:")
