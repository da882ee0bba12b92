"""Fetch a client's `image_url` without letting it reach our network or exhaust our memory.

Every control from the SSRF checklist sits here or one layer down, because each alone has been
bypassed in peer gateways: scheme allow-list and no userinfo (parsed by httpx, the parser that
fetches); the host policy checked on every redirect hop by our own loop; the address check at
connect time in `pinned_transport`; a byte cap while streaming; connect/read timeouts plus a total
deadline; magic-byte sniffing. Refusals are `InvalidImageUrlError`s whose message names the rule
broken but never the resolved IP, the body or the query string; logs carry the host only.
"""

from __future__ import annotations

import base64
import logging
import ssl
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Final

import anyio
import httpx

from gateway.errors import InvalidImageUrlError
from gateway.media.address_guard import DEFAULT_ALLOWED_PORTS, HostPolicy
from gateway.media.fetch_cache import BoundedCache, CacheEntry, freshness_lifetime
from gateway.media.pinned_transport import (
    AddressRefusedError,
    HostResolutionError,
    PinnedTransport,
    Resolver,
    system_resolver,
)
from gateway.media.sniff import GEMINI_IMAGE_MIME_TYPES, SNIFF_BYTES, sniff_image_mime

_log = logging.getLogger("gateway.media")

MIB: Final[int] = 1024 * 1024
_REDIRECT_STATUSES: Final[frozenset[int]] = frozenset({301, 302, 303, 307, 308})
_HEADERS: Final[dict[str, str]] = {
    "accept": "image/png, image/jpeg, image/webp, image/heic, image/heif;q=0.9, */*;q=0.1",
    # Images are already compressed; identity keeps the byte cap exact (no gzip bombs).
    "accept-encoding": "identity",
    "user-agent": "gemini-gateway-image-fetch/0.1",
}


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Operator settings for fetching image URLs; the defaults are the safe ones."""

    enabled: bool = True
    allow_http: bool = True
    allowed_hosts: frozenset[str] = frozenset()
    """Non-empty: ONLY these (`host` or `host:port`) may be fetched, private addresses included."""
    allowed_ports: frozenset[int] = DEFAULT_ALLOWED_PORTS
    max_bytes: int = 20 * MIB
    max_redirects: int = 3
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    cache_entries: int = 64
    cache_bytes: int = 64 * MIB
    cache_ttl: float = 300.0

    def __post_init__(self) -> None:
        """Fail at startup on settings that would silently disable a limit."""
        if self.max_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("max_bytes must be positive and max_redirects not negative")
        if min(self.connect_timeout, self.read_timeout, self.total_timeout) <= 0:
            raise ValueError("fetch timeouts must be positive")


@dataclass(frozen=True, slots=True)
class FetchedImage:
    mime_type: str
    data_b64: str
    size: int
    """Decoded size in bytes."""


class ImageFetcher:
    """Fetches image URLs under one `FetchPolicy`; owns its HTTP client, so `aclose()` it."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy if policy is not None else FetchPolicy()
        self._hosts = HostPolicy(self.policy.allowed_hosts, self.policy.allowed_ports)
        self._cache: BoundedCache[FetchedImage] = BoundedCache(
            self.policy.cache_entries, self.policy.cache_bytes
        )
        self.stats: dict[str, int] = {
            "fetches": 0,
            "cache_hits": 0,
            "revalidations": 0,
            "refusals": 0,
        }
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(self._hosts, resolver, ssl_context=ssl_context),
            trust_env=False,  # an HTTP(S)_PROXY would dial for us and skip the address check
            follow_redirects=False,  # our loop re-checks every hop
            timeout=httpx.Timeout(
                connect=self.policy.connect_timeout,
                read=self.policy.read_timeout,
                write=self.policy.read_timeout,
                pool=self.policy.connect_timeout,
            ),
            # Never keep or replay cookies a fetched server sets.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers=_HEADERS,
        )

    async def __aenter__(self) -> ImageFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, param: str | None = None, scope: str = "") -> FetchedImage:
        """The image at `url`, or `InvalidImageUrlError` (400) naming what was wrong.

        `scope` partitions the cache (e.g. per tenant) when one tenant must not reuse another's
        download; the default shares it, which is safe because no credentials are ever sent.
        """
        try:
            return await self._fetch(url, param, scope)
        except InvalidImageUrlError:
            self.stats["refusals"] += 1
            raise

    async def _fetch(self, url: str, param: str | None, scope: str) -> FetchedImage:
        if not self.policy.enabled:
            raise _refused("image URL fetching is disabled on this gateway", param, None)
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise _refused("image URL is not a valid URL", param, None) from None
        self._check_hop(target, param)
        key = f"{scope}\x00{target}"
        entry = self._cache.get(key)
        if entry is not None and self._cache.is_fresh(entry):
            self.stats["cache_hits"] += 1
            _cache_line(target, "hit")
            return entry.value
        self.stats["fetches"] += 1
        _cache_line(target, "miss" if entry is None else "stale")
        try:
            with anyio.fail_after(self.policy.total_timeout):
                return await self._follow(target, key, entry, param)
        except TimeoutError:
            raise _refused("timed out fetching image URL", param, target) from None

    def _check_hop(self, url: httpx.URL, param: str | None) -> None:
        """URL-level rules, applied to the first URL and to every redirect target."""
        if url.scheme not in ("http", "https") or (
            url.scheme == "http" and not self.policy.allow_http
        ):
            allowed = "http and https" if self.policy.allow_http else "https"
            raise _refused(f"image URL refused: only {allowed} URLs can be fetched", param, url)
        if url.userinfo:
            raise _refused(
                "image URL refused: URLs with embedded credentials are not accepted", param, url
            )
        host = url.raw_host.decode("ascii")
        if not host:
            raise _refused("image URL has no host", param, url)
        port = url.port if url.port is not None else (443 if url.scheme == "https" else 80)
        reason = self._hosts.refusal_before_resolve(host, port)
        if reason is not None:
            raise _refused(f"image URL refused: {reason}", param, url)

    async def _follow(
        self,
        url: httpx.URL,
        key: str,
        entry: CacheEntry[FetchedImage] | None,
        param: str | None,
    ) -> FetchedImage:
        """Our own redirect loop: at most `max_redirects` hops, each one checked again."""
        for _hop in range(self.policy.max_redirects + 1):
            self._check_hop(url, param)
            outcome = await self._request(url, key, entry, param)
            if isinstance(outcome, FetchedImage):
                return outcome
            url = outcome
        raise _refused("image URL refused: too many redirects", param, url)

    async def _request(
        self,
        url: httpx.URL,
        key: str,
        entry: CacheEntry[FetchedImage] | None,
        param: str | None,
    ) -> FetchedImage | httpx.URL:
        headers: dict[str, str] = {}
        if entry is not None:
            if entry.etag is not None:
                headers["if-none-match"] = entry.etag
            if entry.last_modified is not None:
                headers["if-modified-since"] = entry.last_modified
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                return await self._handle(response, url, key, entry, param)
        except AddressRefusedError as exc:
            raise _refused(f"image URL refused: {exc.reason}", param, url) from None
        except HostResolutionError:
            raise _refused("image URL host could not be resolved", param, url) from None
        except httpx.TimeoutException:
            raise _refused("timed out fetching image URL", param, url) from None
        except httpx.TransportError:
            raise _refused(
                "image URL could not be fetched: connection failed", param, url
            ) from None

    async def _handle(
        self,
        response: httpx.Response,
        url: httpx.URL,
        key: str,
        entry: CacheEntry[FetchedImage] | None,
        param: str | None,
    ) -> FetchedImage | httpx.URL:
        status = response.status_code
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise _refused("image URL redirect has no Location", param, url)
            try:
                return url.join(location)
            except (httpx.InvalidURL, ValueError):
                raise _refused("image URL redirected to an invalid URL", param, url) from None
        cache_control = response.headers.get("cache-control")
        if status == 304 and entry is not None:
            self.stats["revalidations"] += 1
            self.stats["cache_hits"] += 1
            _cache_line(url, "revalidated")
            lifetime = freshness_lifetime(cache_control, self.policy.cache_ttl)
            if cache_control is None:
                lifetime = entry.lifetime
            if lifetime is None:
                self._cache.discard(key)
            else:
                self._cache.refresh(key, lifetime)
            return entry.value
        if status != 200:
            raise _refused(f"image URL returned HTTP {status}", param, url)
        data, mime_type = await self._read_image(response, url, param)
        image = FetchedImage(mime_type, base64.b64encode(data).decode("ascii"), len(data))
        lifetime = freshness_lifetime(cache_control, self.policy.cache_ttl)
        if lifetime is None:
            self._cache.discard(key)
        else:
            self._cache.put(
                key,
                image,
                len(image.data_b64),
                lifetime,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
        return image

    async def _read_image(
        self, response: httpx.Response, url: httpx.URL, param: str | None
    ) -> tuple[bytes, str]:
        """Stream the body under the byte cap, sniffing its type as soon as the head arrives."""
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise _refused(
                "image URL refused: compressed (Content-Encoding) responses are not accepted",
                param,
                url,
            )
        limit = self.policy.max_bytes
        too_large = f"image is larger than the {_format_size(limit)} limit"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _refused(too_large, param, url)
        chunks: list[bytes] = []
        received = 0
        mime_type: str | None = None
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:
                raise _refused(too_large, param, url)
            chunks.append(chunk)
            if mime_type is None and received >= SNIFF_BYTES:
                mime_type = _image_type(b"".join(chunks)[:SNIFF_BYTES], param, url)
        data = b"".join(chunks)
        if mime_type is None:
            mime_type = _image_type(data[:SNIFF_BYTES], param, url)
        return data, mime_type


def _image_type(head: bytes, param: str | None, url: httpx.URL) -> str:
    """The sniffed type if Gemini accepts it; otherwise a refusal that says what to do."""
    mime_type = sniff_image_mime(head)
    if mime_type is None:
        message = "image URL did not return a supported image (PNG, JPEG, WebP, HEIC or HEIF)"
    elif mime_type in GEMINI_IMAGE_MIME_TYPES:
        return mime_type
    else:
        kind = mime_type.removeprefix("image/").upper()
        message = f"{kind} images are not supported by Gemini; convert the image to PNG or JPEG"
    raise _refused(message, param, url)


def _cache_line(url: httpx.URL, cache: str) -> None:
    """The cache's decision for one image URL at debug: `hit` (served from memory), `miss`,
    `stale` (kept validators: asked again with them), `revalidated` (a 304 kept the copy).
    Host only: a path or query may be a signed, secret URL."""
    _log.debug("image fetch cache", extra={"image_host": _where(url), "cache": cache})


def _where(url: httpx.URL | None) -> str:
    """`host` or `host:port` of an image URL for a log line; nothing else of it."""
    if url is None or not url.host:
        return "-"
    return f"{url.host}:{url.port}" if url.port is not None else url.host


def _refused(message: str, param: str | None, url: httpx.URL | None) -> InvalidImageUrlError:
    """The client-facing error, logged with the host only (no path, query or address)."""
    _log.info("image fetch refused: %s", message, extra={"image_host": _where(url)})
    return InvalidImageUrlError(message, param=param)


def _format_size(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"
