"""GET /v1/files/{name}: hosted images, with their real content type and long-lived caching
(names are content-addressed, so a name never changes meaning)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import upstream_key_for
from gateway.errors import NotFoundError
from gateway.serving.context import Services


async def get_file(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.files_require_auth:
        upstream_key_for(services.settings, request.headers)
    name = str(request.path_params["name"])
    found = None
    if services.hosted is not None and services.hosted.name_of(
        f"{services.hosted.public_url}/v1/files/{name}"
    ):
        found = await services.hosted.get_bytes(name)
    if found is None:
        raise NotFoundError("no such file (hosted images expire with the gateway's state)")
    mime, data = found
    headers = {
        "cache-control": "private, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
    }
    return Response(data, media_type=mime, headers=headers)
