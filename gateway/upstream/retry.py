"""Which upstream failures are retried, and how long to wait: only before the first byte
reaches the client, never for a request Gemini rejected as invalid."""

from __future__ import annotations

import random
from typing import Final

from gateway.errors import GatewayError, InsufficientQuotaError

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def should_retry(err: GatewayError) -> bool:
    if isinstance(err, InsufficientQuotaError):
        return False
    return err.status in RETRYABLE_STATUSES


def backoff(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Full jitter between 0.25 s and 2 s, or Gemini's own RetryInfo delay when it gave one."""
    if retry_after is not None:
        return retry_after
    cap = min(2.0, 0.25 * (2.0**attempt))
    return 0.25 + rng.random() * max(cap - 0.25, 0.0)
