"""The server protocol that skips uvicorn's body copies delivers every body exactly, and is
used only with the uvicorn it was written for (uvicorn's stock protocol otherwise)."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway import cli
from gateway.cli import DrainingServer, http_protocol
from gateway.http_protocol import LeanBodyHttpToolsProtocol
from tests.hardening.loopback import serve


class Echo:
    """Answers with the length and sha256 of the body it read, after an optional pause
    (a slow app lets pieces pile up in the protocol)."""

    def __init__(self) -> None:
        self.pause = 0.0
        self.messages: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(self.pause)
        digest, size, more = hashlib.sha256(), 0, True
        while more:
            message = await receive()
            assert isinstance(message["body"], bytes)
            digest.update(message["body"])
            size += len(message["body"])
            self.messages.append(len(message["body"]))
            more = message.get("more_body", False)
        body = b"%d %s" % (size, digest.hexdigest().encode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def echo() -> Iterator[tuple[Echo, str]]:
    app = Echo()
    with serve(app) as base:
        yield app, base


def expected(body: bytes) -> str:
    return f"{len(body)} {hashlib.sha256(body).hexdigest()}"


def test_the_cli_serves_with_it():
    assert http_protocol() is LeanBodyHttpToolsProtocol


def changed_on_body(self: HttpToolsProtocol, body: bytes) -> None:
    """A uvicorn whose body handling is not the one the lean protocol was written for."""
    self.cycle.body.extend(body)
    self.cycle.message_event.set()


@pytest.mark.parametrize(
    ("name", "value"),
    [("version", "0.61.0"), ("version", "0.41.2"), ("on_body", changed_on_body)],
)
def test_any_other_uvicorn_gets_its_stock_protocol(monkeypatch, caplog, name, value):
    if name == "version":
        monkeypatch.setattr(uvicorn, "__version__", value)
    else:
        monkeypatch.setattr(HttpToolsProtocol, "on_body", value)
    assert http_protocol() == "auto"
    assert "stock protocol" in caplog.text
    body = b"z" * 200_000
    with serve(Echo()) as base, httpx.Client(base_url=base) as client:  # serves all the same
        assert client.post("/", content=body).text == expected(body)


def test_the_draining_server_fits_the_installed_uvicorn():
    config = uvicorn.Config(Echo())
    assert isinstance(cli.server(config, None), DrainingServer)  # type: ignore[arg-type]


def test_a_changed_exit_hook_gets_uvicorn_s_own_server(monkeypatch, caplog):
    def handle_exit(self: uvicorn.Server, sig: int) -> None: ...

    monkeypatch.setattr(uvicorn.Server, "handle_exit", handle_exit)
    server = cli.server(uvicorn.Config(Echo()), None)  # type: ignore[arg-type]
    assert type(server) is uvicorn.Server
    assert "in-band drain" in caplog.text


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_537, 5 * 1024 * 1024 + 3])
def test_bodies_arrive_whole(echo, size):
    _, base = echo
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    with httpx.Client(base_url=base) as client:
        for _ in range(2):  # the second on the same kept-alive connection
            assert client.post("/", content=body).text == expected(body)


def test_a_chunked_body_in_many_pieces_arrives_whole(echo):
    _, base = echo
    pieces = [bytes([i % 251]) * (1000 + i) for i in range(300)]
    with httpx.Client(base_url=base) as client:
        answer = client.post("/", content=iter(pieces))
    assert answer.text == expected(b"".join(pieces))


def test_pieces_that_pile_up_while_the_app_is_busy_arrive_whole(echo):
    app, base = echo
    app.pause = 0.2
    body = b"0123456789abcdef" * 300_000
    with httpx.Client(base_url=base) as client:
        assert client.post("/", content=body).text == expected(body)


def test_a_body_sent_at_once_reaches_the_app_without_the_joining_path(echo, monkeypatch):
    joined: list[int] = []
    general = HttpToolsProtocol.on_body

    def counting(self: HttpToolsProtocol, body: bytes) -> None:
        joined.append(len(body))
        general(self, body)

    monkeypatch.setattr(HttpToolsProtocol, "on_body", counting)
    _, base = echo
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        answer = b""
        while not answer.endswith(b"0\r\n\r\n"):  # the last chunk of the answer
            piece = sock.recv(4096)
            assert piece, "the server closed the connection early"
            answer += piece
    assert expected(b"hello").encode() in answer
    assert joined == []
