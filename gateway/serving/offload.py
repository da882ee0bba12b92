"""Translation of a large request runs on a worker thread, so one request's CPU cannot freeze
the event loop (every other request, `/healthz` included) while it works (issue 13).

Translation is pure and linear, and `translate/parse.py` bounds what one request may hold; still,
10,000 messages are ~0.25 s of CPU, and several such requests at once would hold the loop for
seconds. On a worker thread the loop keeps getting the GIL every switch interval (5 ms), so
other requests slow down a little instead of stopping. Small requests stay on the loop: a
thread hop costs more than translating them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio.to_thread

from gateway.translate.parse import translation_items

T = TypeVar("T")

# ~25 µs of translation per item (measured): below this a request costs the loop < 50 ms.
OFF_LOOP_ITEMS: Final = 2_000


def is_large(messages: object) -> bool:
    """Decided before validation: a huge `messages` list is large without being walked."""
    if isinstance(messages, list) and len(messages) > OFF_LOOP_ITEMS:
        return True
    return translation_items(messages) > OFF_LOOP_ITEMS


async def run_pure(large: bool, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`: on a worker thread when the request is large, else here. `fn` must be pure
    (it may run concurrently with the loop); a cancelled caller waits for it to finish."""
    if not large:
        return fn(*args)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args))
