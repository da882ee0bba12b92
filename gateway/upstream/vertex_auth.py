"""Application Default Credentials for Vertex AI, through google-auth (the `[vertex]` extra).

The chain, in google-auth's order: an explicit credentials file (GOOGLE_APPLICATION_CREDENTIALS:
a service account, workload identity federation or impersonation JSON), the gcloud user file
(user credentials want a quota project, sent as `x-goog-user-project`), then the metadata
server on Google Cloud (GCE, GKE workload identity, Cloud Run; GCE_METADATA_HOST moves it).
Scope: cloud-platform. Everything here blocks, so it runs in worker threads only.

google-auth makes its HTTP calls through a `Request` object; ours is httpx. With the built-in
emulator (no network) the calls go to the emulator's ASGI app instead, scheduled on the event
loop from the worker thread, which waits for the answer while the loop stays free.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

CLOUD_PLATFORM: Final = "https://www.googleapis.com/auth/cloud-platform"
AUTH_TIMEOUT: Final = 30.0
INSTALL_HINT: Final = (
    "Vertex AI with Google Cloud credentials needs google-auth: "
    "pip install 'gemini-openai-gateway[vertex]'"
)


@dataclass(frozen=True, slots=True)
class Found:
    credentials: Any  # google.auth.credentials.Credentials
    project: str | None


def google_auth(module: str = "") -> Any:
    """google.auth (or one of its modules), typed loosely: the library has no type hints."""
    try:
        return importlib.import_module("google.auth" + (f".{module}" if module else ""))
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc


class _Response:
    """google.auth.transport.Response's shape: status, headers, data."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status = status
        self.headers = headers
        self.data = data


class HttpxRequest:
    """google.auth.transport.Request over httpx. `loop` + an async transport: the call runs on
    that loop (the in-process emulator); otherwise a plain blocking client on real sockets."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop
        self._async = httpx.AsyncClient(transport=transport) if transport is not None else None
        self._sync = httpx.Client() if transport is None else None

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        exceptions = google_auth("exceptions")
        wait = timeout or AUTH_TIMEOUT
        try:
            if self._async is not None and self._loop is not None:
                call = self._async.request(
                    method, url, content=body, headers=dict(headers or {}), timeout=wait
                )
                response = asyncio.run_coroutine_threadsafe(call, self._loop).result(wait + 1)
            else:
                assert self._sync is not None
                response = self._sync.request(
                    method, url, content=body, headers=dict(headers or {}), timeout=wait
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            raise exceptions.TransportError(f"{type(exc).__name__} calling {url}") from exc
        return _Response(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
        if self._sync is not None:
            self._sync.close()


def find_credentials(
    request: HttpxRequest, credentials_file: str, quota_project: str, on_emulator: bool
) -> Found:
    """In a worker thread. On the emulator without a file: its metadata server, always."""
    auth = google_auth()
    quota = quota_project or None
    if credentials_file:
        credentials, project = auth.load_credentials_from_file(
            credentials_file, scopes=[CLOUD_PLATFORM], quota_project_id=quota, request=request
        )
        return Found(credentials, project)
    if on_emulator:
        compute_engine = google_auth("compute_engine")
        credentials = compute_engine.Credentials(scopes=[CLOUD_PLATFORM])
        if quota:
            credentials = credentials.with_quota_project(quota)
        project = google_auth("compute_engine._metadata").get_project_id(request)
        return Found(credentials, project)
    credentials, project = auth.default(
        scopes=[CLOUD_PLATFORM], request=request, quota_project_id=quota
    )
    return Found(credentials, project)


def quota_project_of(credentials: Any) -> str | None:
    value = getattr(credentials, "quota_project_id", None)
    return value if isinstance(value, str) and value else None
