"""Before `serve` binds anything: refuse state written by a newer release with one line and
exit 2, like every configuration error (protocol/schema.py has the rule). The stores check
again when they open (state/sqlite_schema.py), for processes started another way."""

from __future__ import annotations

import asyncio

from gateway.state.factory import SQLITE_PREFIX
from gateway.state.open_state import is_redis
from gateway.state.responses import responses_store_url
from gateway.state.sqlite_schema import check_file


def check_state_schema(url: str, *, prefix: str, timeout: float) -> None:
    """ValueError naming the store and both versions when it is newer than this release."""
    if url.startswith(SQLITE_PREFIX):
        for each in (url, responses_store_url(url)):
            check_file(each[len(SQLITE_PREFIX) :])
    elif is_redis(url):
        asyncio.run(_stamp_redis(url, prefix, timeout))


async def _stamp_redis(url: str, prefix: str, seconds: float) -> None:
    from gateway.state.redis_link import RedisLink
    from gateway.state.redis_schema import stamp

    link = RedisLink(url, pool_size=1, timeout=seconds, prefix=prefix)
    try:
        await stamp(link)
    finally:
        await link.aclose()
