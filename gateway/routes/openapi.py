"""GET /openapi.json: the hand-written description of the gateway's own endpoints (Starlette
has no generated one). Read and checked once at import, served as the same bytes every time."""

from __future__ import annotations

from importlib.resources import files
from typing import Final

import orjson
from starlette.requests import Request
from starlette.responses import Response


def _load() -> bytes:
    raw = files("gateway").joinpath("openapi.json").read_bytes()
    document = orjson.loads(raw)  # a broken file fails at start-up, not on the first request
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.1"):
        raise ValueError("gateway/openapi.json is not an OpenAPI 3.1 document")
    return orjson.dumps(document)


DOCUMENT: Final = _load()


async def openapi_document(request: Request) -> Response:
    return Response(DOCUMENT, media_type="application/json")
