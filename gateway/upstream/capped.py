"""Reading a unary answer from Gemini under the size cap (`GATEWAY_UPSTREAM_MAX_BYTES`), and
telling the operator when the read itself fails after the headers came (a timeout between
chunks, a reset): the same once-per-request warning as a failed attempt (failure.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import UpstreamError
from gateway.upstream.failure import read_failed
from gateway.upstream.wire import WireResponse

if TYPE_CHECKING:
    from gateway.upstream.client import CallStats


def too_large(limit: int) -> UpstreamError:
    return UpstreamError(
        f"Gemini's answer exceeds the gateway's limit of {limit // (1024 * 1024)} MiB "
        "(GATEWAY_UPSTREAM_MAX_BYTES)"
    )


async def chunks_capped(
    response: WireResponse, limit: int, stats: CallStats, url: str
) -> list[bytes]:
    """A declared length over the limit is refused before a byte is read."""
    declared = response.header("content-length") or ""
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.chunks():
            size += len(chunk)
            stats.received += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except UpstreamError as err:
        stats.warned = read_failed(err, url, stats.warned)
        raise
    return chunks


async def read_capped(response: WireResponse, limit: int, stats: CallStats, url: str) -> bytes:
    """Chunks joined once: growing one buffer chunk by chunk copied a 3 MB answer ~3 times."""
    chunks = await chunks_capped(response, limit, stats, url)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
