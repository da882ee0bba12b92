"""Versioned JSON for stored responses and conversations (protocol/schema.py has the rule).

Written as the object with `"v": <version>` added at the top; read back without it. An object
without `v` was written by 0.2.0 and is version 1. A value that is newer, not a JSON object, or
not of its kind's shape is `Unread`: the caller counts it (state/ignored.py) and answers as if
it were not there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.protocol.schema import VERSION_FIELD, Unread, check_version

Json = dict[str, Any]
Shape = Callable[[Json], bool]


def dump(value: Json, version: int) -> bytes:
    return orjson.dumps({VERSION_FIELD: version, **value})


def load(raw: bytes, version: int, shape: Shape) -> Json | Unread:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Unread("unreadable")
    if not isinstance(data, dict):
        return Unread("unreadable")
    unread = check_version(data, version)
    if unread is not None:
        return unread
    data.pop(VERSION_FIELD, None)
    return data if shape(data) else Unread("unreadable")


def has_id(data: Json) -> bool:
    """A conversation or an item: addressed by its id."""
    return isinstance(data.get("id"), str)
