"""Which Google backend the gateway calls, in one place: its URLs, its auth headers, and the tag
that binds the thought signatures it mints (design.md: signatures are backend-bound).

- AI Studio (the Gemini API, and relays that speak it): `{base}/{version}/models/...` with the
  key in `x-goog-api-key`. Its signatures carry no tag (all signatures before Vertex were its).
- Vertex AI: URLs from vertex_url.py; an OAuth access token from the Application Default
  Credentials (vertex_tokens.py), or in express mode (a key and no project) the key. Tag
  `vertex:{project}` (`vertex:express`): a signature is valid only for the project that minted it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from gateway.config import Settings
from gateway.errors import GatewayError, NotFoundError
from gateway.translate.families import family_of
from gateway.upstream.vertex_url import VertexTarget, is_regional, location_for, vertex_url

if TYPE_CHECKING:
    import httpx

    from gateway.upstream.vertex_auth import HttpxRequest
    from gateway.upstream.vertex_tokens import TokenSource

CLIENT_HEADER = "gemini-gateway/0.1"


class Backend(Protocol):
    vertex: bool

    @property
    def tag(self) -> str:
        """The signature-origin tag of this backend ("" for AI Studio)."""
        ...

    def url(self, path: str) -> str: ...

    async def headers(self, key: str) -> dict[str, str]: ...

    def explain(self, error: GatewayError, path: str) -> GatewayError: ...

    def fit_response(self, data: dict[str, Any]) -> dict[str, Any]:
        """A model list or model resource in AI Studio's shape."""
        ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class AIStudio:
    vertex = False
    tag = ""

    def __init__(self, settings: Settings) -> None:
        self._base = f"{settings.base_url.rstrip('/')}/{settings.api_version}/"

    def url(self, path: str) -> str:
        return self._base + path

    async def headers(self, key: str) -> dict[str, str]:
        return {
            "x-goog-api-key": key,
            "content-type": "application/json",
            "x-goog-api-client": CLIENT_HEADER,
        }

    def explain(self, error: GatewayError, path: str) -> GatewayError:
        return error

    def fit_response(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class Vertex:
    vertex = True

    def __init__(
        self,
        settings: Settings,
        auth_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.express = settings.vertex_express
        self.target = self._target(settings.vertex_project or None)
        self._auth_transport = auth_transport
        self._clock = clock
        self._request: HttpxRequest | None = None
        self.tokens: TokenSource | None = None
        self._quota_project: str | None = None

    def _target(self, project: str | None) -> VertexTarget:
        s = self.settings
        return VertexTarget(
            project=None if self.express else project,
            location=s.vertex_location,
            api_version=s.vertex_api_version,
            base_url=s.vertex_base_url,
            locations=s.vertex_locations,
        )

    @property
    def tag(self) -> str:
        return f"vertex:{self.target.project or 'express'}"

    async def start(self) -> None:
        """Find the credentials (and the project, when not configured) once, in a thread."""
        if self.express:
            return
        from gateway.upstream.vertex_auth import HttpxRequest, find_credentials, quota_project_of
        from gateway.upstream.vertex_tokens import TokenSource

        loop = asyncio.get_running_loop()
        self._request = HttpxRequest(self._auth_transport, loop)
        s = self.settings
        found = await asyncio.to_thread(
            find_credentials,
            self._request,
            s.vertex_credentials,
            s.vertex_quota_project,
            s.upstream == "emulator",
        )
        project = s.vertex_project or found.project
        if not project:
            raise RuntimeError(
                "Vertex AI needs a project: set GOOGLE_CLOUD_PROJECT (the credentials name none)"
            )
        self.target = self._target(project)
        self._quota_project = quota_project_of(found.credentials)
        self.tokens = TokenSource(found.credentials, self._request, clock=self._clock)

    def url(self, path: str) -> str:
        return vertex_url(self.target, path)

    async def headers(self, key: str) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-goog-api-client": CLIENT_HEADER}
        if self.express:
            headers["x-goog-api-key"] = key
            return headers
        if self.tokens is None:
            raise RuntimeError("the Vertex AI backend was used before start()")
        headers["authorization"] = f"Bearer {await self.tokens.token()}"
        if self._quota_project:
            headers["x-goog-user-project"] = self._quota_project
        return headers

    def explain(self, error: GatewayError, path: str) -> GatewayError:
        """Vertex answers 404 for Gemini 3 previews on a regional location: say what to do.
        (Embeddings take Vertex's own calls, translate/embeddings/wire.py: no rewrite here.)"""
        model = path.removeprefix("models/").partition("?")[0].partition(":")[0]
        location = location_for(self.target, model)
        global_only = family_of(model).vertex_global_only
        if error.status != 404 or not global_only or not is_regional(location):
            return error
        return NotFoundError(
            f"{model} is not served on the Vertex AI location {location!r}: Gemini 3 preview "
            "models are on the 'global' location (or 'us' / 'eu'). Set "
            "GOOGLE_CLOUD_LOCATION=global or map this model to global under [vertex_locations] "
            f"({error.message})",
            param="model",
            code="model_not_found",
        )

    def fit_response(self, data: dict[str, Any]) -> dict[str, Any]:
        """Vertex lists `publisherModels` named `publishers/google/models/{id}`."""
        listed = data.get("publisherModels")
        if isinstance(listed, list):
            models = [_as_model(m) for m in listed if isinstance(m, dict)]
            out: dict[str, Any] = {"models": models}
            if data.get("nextPageToken"):
                out["nextPageToken"] = data["nextPageToken"]
            return out
        return _as_model(data) if "name" in data else data

    async def aclose(self) -> None:
        if self.tokens is not None:
            await self.tokens.aclose()
        if self._request is not None:
            await self._request.aclose()


def _as_model(model: dict[str, Any]) -> dict[str, Any]:
    name = str(model.get("name", "")).rpartition("/")[2]
    return {**model, "name": f"models/{name}"}


def open_backend(
    settings: Settings,
    auth_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Backend:
    if settings.vertex:
        return Vertex(settings, auth_transport, clock)
    return AIStudio(settings)
