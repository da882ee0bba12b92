"""A fast fake Gemini upstream (raw ASGI, answers pre-serialised bodies instantly).

    python -m bench.fake_upstream --port 18471 [--image-bytes 2000000 ...]

Routes: `POST /v1beta/models/{model}:generateContent`, `:batchEmbedContents` (as many vectors
as requests, of the requested width: bench/embed_payloads.py), `:streamGenerateContent?alt=sse` (one
event per `data:` line, CRLF framing like Google's), `GET /bench/stats` (hits and bytes received,
so the benchmark can prove every gateway request reached it exactly once), `POST /bench/record`
(keep the next request body) and `GET /bench/last` (that body). Models whose name contains
"image" answer with an inline PNG and a large thoughtSignature.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bench.embed_payloads import CannedEmbeddings
from bench.payloads import Canned, FakeConfig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = [(b"content-type", b"application/json; charset=UTF-8")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
_PREFIX = "/v1beta/models/"


class FakeGemini:
    def __init__(self, config: FakeConfig | None = None) -> None:
        self.canned = Canned.build(config or FakeConfig())
        self.embeddings = CannedEmbeddings()
        self.hits = 0
        self.bytes_in = 0
        self.recording = False
        self.last_body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path.startswith("/bench/"):
            await self._control(path, method, receive, send)
            return
        if method != "POST" or not path.startswith(_PREFIX) or ":" not in path:
            await _reply(send, 404, b'{"error":{"code":404,"message":"no such route"}}')
            return
        model, _, action = path[len(_PREFIX) :].rpartition(":")
        if action == "batchEmbedContents":
            request = await self._read(receive, keep=True)
            self.hits += 1
            compact = b"prettyPrint=false" in scope.get("query_string", b"")
            await _reply(send, 200, self.embeddings.reply(request or b"{}", compact))
            return
        body = await self._read(receive, keep=self.recording)
        self.hits += 1
        if body is not None:
            self.last_body, self.recording = body, False
        image = "image" in model
        if action == "generateContent":
            await _reply(send, 200, self.canned.unary_image if image else self.canned.unary_text)
        elif action == "streamGenerateContent" and not image:
            await send({"type": "http.response.start", "status": 200, "headers": _SSE})
            for event in self.canned.sse_text:
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            await _reply(send, 400, b'{"error":{"code":400,"message":"unsupported action"}}')

    async def _read(self, receive: Receive, keep: bool) -> bytes | None:
        chunks: list[bytes] = []
        for _ in range(1 << 20):  # bounded: 1M receive() calls is far beyond any bench body
            message = await receive()
            chunk = message.get("body", b"")
            self.bytes_in += len(chunk)
            if keep:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks) if keep else None

    async def _control(self, path: str, method: str, receive: Receive, send: Send) -> None:
        await self._read(receive, keep=False)
        if path == "/bench/stats":
            await _reply(send, 200, orjson.dumps({"hits": self.hits, "bytes_in": self.bytes_in}))
        elif path == "/bench/record" and method == "POST":
            self.recording, self.last_body = True, b""
            await _reply(send, 200, b"{}")
        elif path == "/bench/last":
            await _reply(send, 200, self.last_body)
        else:
            await _reply(send, 404, b"{}")

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        for _ in range(2):
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


def config_from_args(argv: list[str] | None = None) -> tuple[FakeConfig, int]:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_upstream")
    parser.add_argument("--port", type=int, required=True)
    defaults = FakeConfig()
    for name in ("text_words", "sse_events", "text_sig_bytes", "image_bytes", "image_sig_bytes"):
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name)
        )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    config = FakeConfig(
        text_words=args.text_words,
        sse_events=args.sse_events,
        text_sig_bytes=args.text_sig_bytes,
        image_bytes=args.image_bytes,
        image_sig_bytes=args.image_sig_bytes,
        seed=args.seed,
    )
    return config, args.port


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    config, port = config_from_args(argv)
    options: dict[str, Any] = {"loop": "asyncio", "http": "h11"}
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401

        options["http"] = "httptools"
    except ImportError:
        pass
    uvicorn.run(
        FakeGemini(config),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        **options,
    )


if __name__ == "__main__":
    main()
