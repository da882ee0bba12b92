"""GET / and /playground: the browser playground, three static files shipped in the package.

The page is a client of the public API like any other (no server-side state of its own). It is
served with a strict Content-Security-Policy: scripts only from this origin and never inline, so
text a model writes can never run as script even if some future change rendered it as HTML."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import NotFoundError

ASSETS: Final = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}


def content_security_policy(public_url: str) -> str:
    """Same origin for everything; images also as data:/blob: URLs and from the hosted-image
    origin when the gateway hosts images under another public URL."""
    image_sources = ["'self'", "data:", "blob:"]
    parts = urlsplit(public_url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        image_sources.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(image_sources)}",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True, slots=True)
class Playground:
    """The files read once at start-up, and the headers every one of them is served with."""

    bodies: dict[str, bytes]
    headers: dict[str, str]

    @classmethod
    def load(cls, public_url: str) -> Playground:
        folder = files("gateway").joinpath("playground")
        bodies = {name: folder.joinpath(name).read_bytes() for name in ASSETS}
        headers = {
            "content-security-policy": content_security_policy(public_url),
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-cache",
        }
        return cls(bodies, headers)

    def response(self, name: str) -> Response:
        body = self.bodies.get(name)
        if body is None:
            raise NotFoundError(f"no playground file {name!r}")
        return Response(body, media_type=ASSETS[name], headers=self.headers)

    def routes(self) -> list[Route]:
        async def page(request: Request) -> Response:
            return self.response("index.html")

        async def asset(request: Request) -> Response:
            return self.response(str(request.path_params["name"]))

        return [
            Route("/", page, methods=["GET"]),
            Route("/playground", page, methods=["GET"]),
            Route("/playground/{name}", asset, methods=["GET"]),
        ]
