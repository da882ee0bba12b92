"""GET /v1/files/{name}: only raster images recognised by their bytes are served inline; any
other stored bytes (an upstream's `image/svg+xml` with a script) go out as a sandboxed
attachment; names match whole; caching lasts as long as the store keeps the file."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gateway.state.hosted_images import HostedImages
from tests.conftest import emulator_stack
from tests.hardening.faults import envelope

pytestmark = pytest.mark.anyio

PUBLIC_URL = "http://gateway"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<html><script>fetch('/v1/models')</script></html>"
NAME = "0123456789abcdef0123456789abcdef"


@asynccontextmanager
async def hosted_stack(files: dict[str, tuple[str, bytes]], **overrides: Any) -> AsyncIterator[Any]:
    """The app on the emulator with `files` ({name: (stored type, bytes)}) already hosted."""
    async with emulator_stack(public_url=PUBLIC_URL, **overrides) as stack:
        hosted: HostedImages = stack.app.state.services.hosted
        items = tuple(
            (n, mime, base64.b64encode(data).decode()) for n, (mime, data) in files.items()
        )
        await hosted.put_many(items)
        yield stack


@pytest.mark.parametrize(
    ("stored_type", "data"),
    [("image/svg+xml", SVG), ("image/png", HTML), ("text/html", HTML)],
    ids=["svg-with-script", "html-labelled-png", "html"],
)
async def test_bytes_that_are_no_raster_image_are_never_served_inline(stored_type, data):
    async with hosted_stack({f"{NAME}.svg": (stored_type, data)}) as stack, stack.http() as http:
        got = await http.get(f"/v1/files/{NAME}.svg")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in got.headers["content-security-policy"]
    assert got.headers["x-content-type-options"] == "nosniff"


async def test_a_raster_image_is_served_inline_with_the_type_its_bytes_prove():
    async with hosted_stack({f"{NAME}.jpg": ("image/jpeg", PNG)}) as stack, stack.http() as http:
        got = await http.get(f"/v1/files/{NAME}.jpg")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert "content-disposition" not in got.headers
    assert "sandbox" in got.headers["content-security-policy"]


async def test_the_cache_lifetime_is_the_store_retention_not_a_year():
    async with (
        hosted_stack({f"{NAME}.png": ("image/png", PNG)}, state_max_age=3600.0) as stack,
        stack.http() as http,
    ):
        got = await http.get(f"/v1/files/{NAME}.png")
    assert got.headers["cache-control"] == "private, max-age=3600"


def test_a_file_name_matches_whole_no_trailing_newline():
    hosted = HostedImages(store=None, public_url=PUBLIC_URL)  # type: ignore[arg-type]
    prefix = f"{PUBLIC_URL}/v1/files/"
    assert hosted.name_of(f"{prefix}{NAME}.png") == f"{NAME}.png"
    assert hosted.name_of(f"{prefix}{NAME}.png\n") is None
    assert hosted.name_of(f"{prefix}{NAME}.png%0A") is None


async def test_hosted_files_are_capabilities_unless_auth_is_asked_for():
    """design.md: hosted GET URLs stay unguessable capabilities (browsers fetch them without a
    key); GATEWAY_FILES_REQUIRE_AUTH asks for a client key."""
    files = {f"{NAME}.png": ("image/png", PNG)}
    keys = {"client_keys": ("sk-client",), "api_keys": ("server",)}
    async with hosted_stack(files, **keys) as stack, stack.http() as http:
        anonymous = await http.get(f"/v1/files/{NAME}.png")
    async with hosted_stack(files, files_require_auth=True, **keys) as stack, stack.http() as http:
        refused = await http.get(f"/v1/files/{NAME}.png")
        allowed = await http.get(
            f"/v1/files/{NAME}.png", headers={"authorization": "Bearer sk-client"}
        )
    assert anonymous.status_code == 200
    assert refused.status_code == 401 and envelope(refused.json())["type"]
    assert allowed.status_code == 200
