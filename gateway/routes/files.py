"""GET /v1/files/{name}: hosted images. The URL is a capability (design.md, tenancy decision):
unguessable, fetched by browsers and chat UIs without a key, unless GATEWAY_FILES_REQUIRE_AUTH.

What is served inline is decided by the bytes, never by the type the upstream reported: only a
raster image the sniffer recognises goes out as `image/*`. Anything else (an `image/svg+xml`
with a script, HTML labelled as an image) would run on the gateway's own origin, so it goes
out as an `application/octet-stream` attachment. Every answer carries a sandboxing CSP.

Cached for as long as the store keeps an entry (`state_max_age`): a name never changes meaning
(content-addressed), but the store forgets it after that, so a longer lifetime would promise a
URL that no longer answers."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import upstream_key_for
from gateway.errors import NotFoundError, StateUnavailableError
from gateway.media.sniff import SNIFF_BYTES, sniff_image_mime
from gateway.serving.context import Services
from gateway.serving.resolve import state_failed
from gateway.state.store import StoreError

RASTER_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/gif", "image/heic", "image/heif", "image/avif"}
)
SANDBOX: Final = "default-src 'none'; sandbox"


def served_type(data: bytes) -> str | None:
    """The raster type the bytes prove, or None: then the file is not served inline."""
    mime = sniff_image_mime(data[:SNIFF_BYTES])
    return mime if mime in RASTER_TYPES else None


async def get_file(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.files_require_auth:
        upstream_key_for(services.settings, request.headers)
    name = str(request.path_params["name"])
    found = None
    if services.hosted is not None and services.hosted.name_of(
        f"{services.hosted.public_url}/v1/files/{name}"
    ):
        try:
            found = await services.hosted.get_bytes(name)
        except StoreError as exc:
            state_failed("hosted_get", services, exc)
            raise StateUnavailableError("hosted images are unavailable; retry") from exc
    if found is None:
        raise NotFoundError("no such file (hosted images expire with the gateway's state)")
    _stored_type, data = found
    headers = {
        "cache-control": f"private, max-age={int(services.settings.state_max_age)}",
        "x-content-type-options": "nosniff",
        "content-security-policy": SANDBOX,
    }
    mime = served_type(data)
    if mime is None:
        headers["content-disposition"] = f'attachment; filename="{name}"'
        mime = "application/octet-stream"
    return Response(data, media_type=mime, headers=headers)
