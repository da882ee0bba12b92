"""A stand-in for a base64 payload that translation carries but never reads.

The splice path, in one place (the details live where each step runs):

1. routes/common.py reads the body with `lifted_json.loads`, which cuts each long string out
   and reports where its bytes are (spans).
2. serving/splice.py `from_spans` turns each data URL's span into what translation gets for its
   payload: when nothing reads payloads before the Gemini body is written (no history budget),
   a `StandIn`; otherwise the payload text, cut once. They reach translation as
   `Resolved.payloads`, keyed by the identity of the data URL string they belong to.
3. translate/request/parts.py puts that object, unread, into `inlineData.data`.
4. serving/splice.py `encode` finds those objects in the Gemini body and writes the request's
   own bytes in their place (or, when splicing would hold too much memory, the payload text).

A `StandIn` is deliberately not a string: reading it as a payload (slicing, measuring,
hashing, `str()`, JSON-encoding it) raises instead of quietly sending or comparing a fake
payload. Only identity and `index` are meaningful.
"""

from __future__ import annotations

from typing import final


@final
class StandIn:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<payload stand-in {self.index}>"

    def __str__(self) -> str:
        raise TypeError(f"{self!r} was read as a payload; only serving/splice.py may write it out")


Payload = str | StandIn  # what translation is handed for a data URL's payload
