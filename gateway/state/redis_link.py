"""One Redis (or Valkey) client per process: a bounded connection pool, a short timeout, and an
outage switch, shared by the turn cache and the record store.

Why a switch: when Redis is down every operation would otherwise pay a connect attempt (or a
full timeout when packets are dropped). After a failure, operations fail at once for
`RETRY_SECONDS`; then the next one tries the network again, so the gateway reconnects by
itself without a background task. An outage is logged once when it starts and once when it
ends; callers turn `StoreUnavailableError` into stateless behaviour and count it.

Pool sizing: each process opens at most `pool_size` connections, so a deployment opens at most
replicas × workers × pool_size; keep that under the server's `maxclients` (10000 by default).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.state.store import StoreClosedError, StoreError, StoreUnavailableError

log = logging.getLogger("gateway.state")

T = TypeVar("T")
RETRY_SECONDS = 1.0
REDIS_SCHEMES = ("redis://", "rediss://")


def redacted(url: str) -> str:
    """The URL without its password, for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisLink:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int,
        timeout: float,
        prefix: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(REDIS_SCHEMES):
            raise ValueError(f"not a Redis URL: {redacted(url)!r}")
        if pool_size < 1:
            raise ValueError(f"state pool size must be at least 1, got {pool_size}")
        if not timeout > 0:
            raise ValueError(f"state timeout must be positive, got {timeout}")
        self.prefix = prefix
        self.where = redacted(url)
        self.timeout = timeout
        self._clock = clock
        # A full pool waits up to `timeout` for a free connection, then fails like an outage:
        # the pool is the bound, never grown, never rebuilt.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            client_name="gemini-gateway",
        )
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._closed = False
        self.outages = 0

    @property
    def available(self) -> bool:
        return self._down_since is None

    async def run(self, op: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run one operation; any Redis failure becomes `StoreUnavailableError`."""
        if self._closed:
            raise StoreClosedError("state store is closed")
        if self._down_since is not None and self._clock() < self._retry_at:
            raise StoreUnavailableError(f"state store {self.where} is unavailable")
        try:
            result = await op(self.client)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            self._failed(exc)
            raise StoreUnavailableError(f"state store {self.where} is unavailable") from exc
        except (OSError, redis.exceptions.BusyLoadingError) as exc:
            self._failed(exc)
            raise StoreUnavailableError(f"state store {self.where} is unavailable") from exc
        except redis.exceptions.RedisError as exc:
            # Answered, but refused (OOM under maxmemory, READONLY replica, ...): not an outage.
            raise StoreError(f"state store {self.where} refused: {exc}") from exc
        if self._down_since is not None:
            log.warning(
                "state store reachable again after %.1f s",
                self._clock() - self._down_since,
                extra={"store": self.where},
            )
            self._down_since = None
        return result

    def _failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._retry_at = now + RETRY_SECONDS
        if self._down_since is None:
            self._down_since = now
            self.outages += 1
            log.warning(
                "state store unreachable; serving without remembered turns until it is back",
                extra={"store": self.where, "error": type(exc).__name__},
            )

    async def ready(self) -> bool:
        try:
            await self.run(lambda c: c.ping())
        except StoreError:
            return False
        return True

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.client.aclose(close_connection_pool=True)


def as_bytes(value: bytes | str | None) -> bytes | None:
    """The client never decodes (decode_responses=False); this narrows its loose types."""
    return value.encode() if isinstance(value, str) else value


def pipeline_result(values: Any) -> list[Any]:
    """redis-py types pipeline results loosely; this is where that ends."""
    return list(values)
