"""Places for reading and parsing large request bodies: bounds their memory and keeps the
work on one body together.

A body being parsed is held two or three times over, so at most `places` large bodies are read
and parsed together; the others wait unread in their sockets, costing nothing here. Parsing is
CPU work, so on one core a single place loses no throughput, and a body read and parsed while
its bytes are still in the CPU caches costs ~12 % less than four interleaved (img4 benchmark).

A place is for a body arriving at local-network speed, and no slow client can hold one: an
upload still arriving after `slow_seconds` gives its place up at once, even while stalled in a
read. It then reads on with one of `placeless_cap` slots (its pace is the network's, not ours);
while none is free it is parked, unread, so the memory of bodies being read without a place
stays bounded. Either way it takes a place back to parse. A stalled upload is ended by the body
deadline (gateway/http_limits.py), which frees its slot; a parked one waits for a slot no
longer than `park_seconds` (then a 503 the client can retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.errors import ServerBusyError

SLOW_UPLOAD_SECONDS = 0.25
PLACELESS_CAP = 8
PARK_SECONDS = 30.0


class LargeBodyGate:
    def __init__(
        self,
        places: int,
        slow_seconds: float = SLOW_UPLOAD_SECONDS,
        placeless_cap: int = PLACELESS_CAP,
        park_seconds: float = PARK_SECONDS,
    ) -> None:
        self.places = places
        self.slow_seconds = slow_seconds
        self.placeless_cap = placeless_cap
        self.park_seconds = park_seconds
        self._free = asyncio.Semaphore(places)
        self._slots = asyncio.Semaphore(placeless_cap)
        self.placeless = 0  # bodies being read (or waiting to be parsed) without a place
        self.parked = 0  # slow bodies waiting for a placeless slot before reading on

    @property
    def full(self) -> bool:
        return self._free.locked()

    @asynccontextmanager
    async def place(self) -> AsyncIterator[Place]:
        await self._free.acquire()
        place = Place(self)
        try:
            yield place
        finally:
            place.leave()


class Place:
    """One large body's place; given up once its upload is slow, taken back by `back()`."""

    def __init__(self, gate: LargeBodyGate) -> None:
        self._gate = gate
        self._held = True
        self._slot = False  # holds one of the placeless slots
        self._timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            gate.slow_seconds, self._slow
        )

    def _slow(self) -> None:
        """Runs on the loop, even while the upload is stalled in a read: the place goes back
        at once; a placeless slot is taken before the next read (`may_read`)."""
        self._timer = None
        self._held = False
        self._gate._free.release()

    async def may_read(self) -> None:
        """Called before each further read. Without a place, a body reads on only with a
        placeless slot; while none is free it is parked here, unread."""
        if self._held or self._slot:
            return
        gate = self._gate
        gate.parked += 1
        try:
            async with asyncio.timeout(gate.park_seconds):
                await gate._slots.acquire()
        except TimeoutError:
            raise ServerBusyError(
                "too many slow uploads at once; send the request again", retry_after=1.0
            ) from None
        finally:
            gate.parked -= 1
        self._slot = True
        gate.placeless += 1

    async def back(self) -> None:
        """Holding a place again (a no-op when it was never given up)."""
        self._cancel_timer()
        if not self._held:
            await self._gate._free.acquire()
            self._held = True
        self._give_slot_back()

    def leave(self) -> None:
        self._cancel_timer()
        self._give_slot_back()
        if self._held:
            self._held = False
            self._gate._free.release()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _give_slot_back(self) -> None:
        if self._slot:
            self._slot = False
            self._gate.placeless -= 1
            self._gate._slots.release()
