"""Real-sized images on the built-in emulator, whose own PNGs are 64 px and ~150 bytes.

`ImageInflater` sits between the gateway and the emulator: every image the emulator sends is
swapped for a big one made from it (deterministically), and every big one coming back is
swapped for the original again, so the emulator still checks its own signatures. What the
gateway really sent upstream (big images) is recorded in `sent`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from PIL import Image

from gateway.app import build_app
from gateway.config import Settings
from gateway.emulator.app import build_emulator_app

Json = dict[str, Any]
MakeBig = Callable[[bytes], bytes]


def upscaled(side: int) -> MakeBig:
    """The emulator's picture scaled up to side x side: big in pixels, small in bytes."""

    def make(small: bytes) -> bytes:
        with Image.open(io.BytesIO(small)) as image:
            big = image.convert("RGB").resize((side, side), Image.Resampling.NEAREST)
        out = io.BytesIO()
        big.save(out, format="PNG")
        return out.getvalue()

    return make


def noisy(side: int) -> MakeBig:
    """Incompressible noise seeded by the emulator's picture: big in pixels and in bytes."""

    def make(small: bytes) -> bytes:
        rng = random.Random(hashlib.sha256(small).digest())
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        return out.getvalue()

    return make


def _swap_images(node: Any, swap: Callable[[str], str]) -> None:
    """Replace `inlineData.data` everywhere in a JSON tree, in place (bounded by its depth)."""
    if isinstance(node, list):
        for item in node:
            _swap_images(item, swap)
    elif isinstance(node, dict):
        inline = node.get("inlineData")
        if isinstance(inline, dict) and isinstance(inline.get("data"), str):
            inline["data"] = swap(inline["data"])
        for value in node.values():
            _swap_images(value, swap)


@dataclass
class ImageInflater(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    make_big: MakeBig
    big_of: dict[str, str] = field(default_factory=dict)
    small_of: dict[str, str] = field(default_factory=dict)
    sent: list[Json] = field(default_factory=list)

    def _inflate(self, small: str) -> str:
        if small not in self.big_of:
            big = base64.b64encode(self.make_big(base64.b64decode(small))).decode()
            self.big_of[small] = big
            self.small_of[big] = small
        return self.big_of[small]

    def _deflate(self, data: str) -> str:
        return self.small_of.get(data, data)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = await request.aread()
        if request.method == "POST" and raw:
            body = orjson.loads(raw)
            self.sent.append(orjson.loads(raw))
            _swap_images(body, self._deflate)
            headers = [(k, v) for k, v in request.headers.items() if k != "content-length"]
            request = httpx.Request(
                request.method, request.url, headers=headers, content=orjson.dumps(body)
            )
        response = await self.inner.handle_async_request(request)
        payload = await response.aread()
        if response.status_code == 200:
            payload = self._inflate_payload(payload, response.headers.get("content-type", ""))
        headers = [(k, v) for k, v in response.headers.items() if k != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=payload)

    def _inflate_payload(self, payload: bytes, content_type: str) -> bytes:
        if "event-stream" not in content_type:
            body = orjson.loads(payload)
            _swap_images(body, self._inflate)
            return orjson.dumps(body)
        lines = []
        for line in payload.split(b"\n"):
            if line.startswith(b"data: "):
                event = orjson.loads(line[6:])
                _swap_images(event, self._inflate)
                end = b"\r" if line.endswith(b"\r") else b""
                line = b"data: " + orjson.dumps(event) + end
            lines.append(line)
        return b"\n".join(lines)


@dataclass
class InflatedStack:
    """The gateway on the emulator through an ImageInflater; clients record request sizes."""

    app: Any
    emulator: Any
    inflater: ImageInflater
    request_sizes: list[int] = field(default_factory=list)

    def http(self) -> httpx.AsyncClient:
        async def measure(request: httpx.Request) -> None:
            if request.method == "POST":
                self.request_sizes.append(len(request.content))

        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://gateway",
            timeout=30,
            event_hooks={"request": [measure]},
        )

    def openai(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url="http://gateway/v1", api_key="test-key", http_client=self.http(), max_retries=0
        )


@asynccontextmanager
async def inflated_stack(make_big: MakeBig, **overrides: Any) -> AsyncIterator[InflatedStack]:
    emulator_app = build_emulator_app()
    inflater = ImageInflater(httpx.ASGITransport(app=emulator_app), make_big)
    settings = Settings(**{"upstream": "emulator", "keepalive_interval": 5.0, **overrides})
    app = build_app(settings, upstream_transport=inflater)
    async with app.router.lifespan_context(app):
        yield InflatedStack(app, emulator_app.state.emulator, inflater)
