"""OAuth access tokens for Vertex AI: one cached token, refreshed off the event loop.

google-auth's `refresh()` is synchronous (a blocking HTTP call to the token endpoint or the
metadata server), so it runs in a worker thread. Refresh is single-flight: any number of
requests wait on one refresh. It starts before expiry: past the refresh point (expiry − 3m45s,
google-auth's own threshold) requests keep using the still-valid token while one background
refresh replaces it; only a missing or expired token makes requests wait. Tokens are registered
with the log redaction and never appear in a log line, an error or a response.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from gateway.errors import UpstreamError
from gateway.logs import set_secret_slot

log = logging.getLogger("gateway.upstream")

REFRESH_MARGIN: Final = 225.0  # seconds before expiry: google-auth's REFRESH_THRESHOLD (3m45s)
RETRY_AFTER_FAILURE: Final = 10.0  # a failed background refresh is tried again this much later
DEFAULT_LIFETIME: Final = 3600.0  # when the token endpoint gives no expiry


class Refreshable(Protocol):
    """What google-auth credentials offer (and what a unit test can stand in for)."""

    token: str | None
    expiry: datetime.datetime | None

    def refresh(self, request: Any) -> None: ...


class VertexAuthError(UpstreamError):
    """No access token: the credentials could not be refreshed."""

    default_code = "upstream_auth_failed"


class TokenSource:
    """The current access token of one set of credentials; `clock` is injectable for tests."""

    def __init__(
        self,
        credentials: Refreshable,
        request: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self._request = request
        self._margin = margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self.refreshes = 0  # completed refreshes, for /metrics and tests

    async def token(self) -> str:
        now = self.clock()
        if self._token is not None and now < self._refresh_at:
            return self._token
        task = self._refresh_task()
        if self._token is not None and now < self._expires_at:
            return self._token  # still valid: the refresh runs in the background
        await asyncio.shield(task)  # a cancelled request must not cancel the shared refresh
        if self._token is None:
            raise VertexAuthError("Vertex AI: no access token could be obtained")
        return self._token

    def _refresh_task(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._refresh())
            self._task.add_done_callback(_consume)
        return self._task

    async def _refresh(self) -> None:
        try:
            token, lifetime = await asyncio.to_thread(self._fetch)
        except Exception as exc:  # google-auth raises RefreshError, TransportError, ValueError...
            now = self.clock()
            if self._token is not None and now < self._expires_at:
                log.warning(
                    "Vertex AI token refresh failed; the current token is still valid",
                    exc_info=exc,
                )
                self._refresh_at = now + RETRY_AFTER_FAILURE
                return
            self._token = None
            raise VertexAuthError(
                f"Vertex AI: could not get an access token ({type(exc).__name__}); check "
                "GOOGLE_APPLICATION_CREDENTIALS or the metadata server"
            ) from exc
        now = self.clock()
        set_secret_slot("vertex-token", token)
        self._token = token
        self._expires_at = now + lifetime
        self._refresh_at = now + max(lifetime - self._margin, lifetime / 2)
        self.refreshes += 1

    def _fetch(self) -> tuple[str, float]:
        """In a worker thread: google-auth's blocking refresh; the lifetime it reported."""
        self.credentials.refresh(self._request)
        token = self.credentials.token
        if not token:
            raise ValueError("the token endpoint answered without an access token")
        expiry = self.credentials.expiry
        if expiry is None:
            return token, DEFAULT_LIFETIME
        utc_now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # google-auth: naive
        if expiry.tzinfo is not None:
            expiry = expiry.astimezone(datetime.UTC).replace(tzinfo=None)
        return token, max((expiry - utc_now).total_seconds(), 0.0)

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


def _consume(task: asyncio.Task[None]) -> None:
    """A background refresh nobody awaited still has its failure read (already logged)."""
    if not task.cancelled():
        task.exception()
