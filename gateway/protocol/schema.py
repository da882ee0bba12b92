"""Schema versions of everything the gateway persists: the one home of these numbers and of the
rule that moves them.

What is persisted: turn records (protocol/turn_record.py) in the turn cache; stored responses
(state/responses.py) and conversations (state/conversations.py); hosted image bytes; and the
stores that hold them: SQLite files (stamped with `PRAGMA user_version`, state/sqlite_schema.py)
and a Redis/Valkey keyspace (the `<prefix>schema` key, state/redis_schema.py).

The upgrade rule (README "Upgrading"):

- A release writes its current versions and reads every version up to them. Bytes written by
  0.1.0 and 0.2.0 carry no version: they are version 1, read when their shape is version 1's.
- A record that is newer than this release, or whose shape cannot be read, is ignored: a cache
  miss or a 404, never an error answer. It is counted in `gateway_state_records_ignored_total
  {kind,reason}` and logged at warning once per kind and reason per process.
- A store stamped older is brought up to date in place when opened (what is missing is added,
  then the stamp is written). A store stamped newer refuses: the gateway does not start, with
  one line naming the store and both versions, since an older release cannot know what its
  writes would break. Downgrading across a store version bump means a fresh store.
- Bump a record version when a reader of the previous version would misread the new bytes; an
  optional field that older readers ignore needs no bump. Every bump keeps the reader of the
  old version for at least one minor release and adds a fixture written by the old release
  (tests/fixtures/state/, made by running that release's own code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

VERSION_FIELD: Final = "v"  # in every JSON record the gateway writes
UNVERSIONED: Final = 1  # what a record without VERSION_FIELD is read as (0.1.0, 0.2.0)

TURN_RECORD: Final = 1  # an encoded TurnRecord
STORED_RESPONSE: Final = 1  # a stored response ({"response", "input"})
CONVERSATION: Final = 1  # a conversation object and its items
SQLITE_FILE: Final = 1  # PRAGMA user_version of a state file (0: not stamped, 0.1.0 / 0.2.0)
REDIS_KEYSPACE: Final = 1  # the value of `<prefix>schema` (absent: 0.2.0)

Reason = Literal["newer", "unreadable"]


@dataclass(frozen=True, slots=True)
class Unread:
    """Why a record was not read: `newer` than this release, or `unreadable` (not JSON, not the
    shape of its version, or a version field that is not a positive integer)."""

    reason: Reason
    version: int | None = None


def check_version(data: dict[str, Any], current: int) -> Unread | None:
    """None when this release reads `data`'s version (absent means UNVERSIONED)."""
    version = data.get(VERSION_FIELD, UNVERSIONED)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return Unread("unreadable")
    if version > current:
        return Unread("newer", version)
    return None
