"""The schema version of a Redis/Valkey keyspace: `<prefix>schema` (protocol/schema.py
`REDIS_KEYSPACE`; the upgrade rule is there).

Read once when `serve` starts, never per request: absent (a new keyspace, or one 0.2.0 wrote)
means this release's layout, so the stamp is written (SET NX: several replicas starting at once
agree); a newer stamp stops the start (ValueError, exit 2) with one line naming the keyspace.
Each value written in it carries its own version as well (turn records, stored responses,
conversations), so a replica that started while Redis was down still never misreads one.
"""

from __future__ import annotations

import logging

from gateway.protocol.schema import REDIS_KEYSPACE
from gateway.state.redis_link import RedisLink, as_bytes
from gateway.state.store import StoreError

log = logging.getLogger("gateway.state")

SCHEMA_KEY = "schema"


def newer_message(where: str, key: str, version: int) -> str:
    return (
        f"state keyspace {key!r} on {where} has schema version {version}, newer than the"
        f" {REDIS_KEYSPACE} this gateway reads: run the release that wrote it (or a newer one),"
        " or use another GATEWAY_STATE_PREFIX or database"
    )


async def stamp(link: RedisLink) -> None:
    key = link.key(SCHEMA_KEY)
    try:
        await link.run(lambda c: c.set(key, str(REDIS_KEYSPACE), nx=True))
        raw = as_bytes(await link.run(lambda c: c.get(key)))
    except StoreError as exc:
        log.warning(
            "state store unreachable at start: its schema version is not checked",
            extra={"store": link.where, "error": type(exc).__name__},
        )
        return
    text = (raw or b"").decode("ascii", "replace")
    if not text.isdigit():
        raise ValueError(f"state keyspace {key!r} on {link.where} has an unreadable version")
    if int(text) > REDIS_KEYSPACE:
        raise ValueError(newer_message(link.where, key, int(text)))
