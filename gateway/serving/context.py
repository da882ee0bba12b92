"""What one call needs from the app (Services, built by the lifespan) and from the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.config import Settings
from gateway.lifted_json import Spans
from gateway.media.fetch import ImageFetcher
from gateway.metrics import Metrics
from gateway.serving.body_gate import LargeBodyGate
from gateway.serving.drain import Drain
from gateway.serving.readiness import Readiness
from gateway.state.hosted_images import HostedImages
from gateway.state.ignored import IgnoredRecords
from gateway.state.records import RecordStore
from gateway.state.responses import ResponseStore
from gateway.state.scope import SHARED_SCOPE
from gateway.state.store import TurnStore
from gateway.upstream.client import CallStats, GeminiClient


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    upstream: GeminiClient
    turns: TurnStore
    fetcher: ImageFetcher | None
    hosted: HostedImages | None
    metrics: Metrics
    # Places for reading and parsing a large body (settings.max_concurrent_large): bounds
    # peak memory; on one core it costs no throughput (parsing is CPU).
    large_bodies: LargeBodyGate
    drain: Drain = field(default_factory=lambda: Drain())
    responses: ResponseStore | None = None  # stored responses (/v1/responses)
    envelope_secret: bytes = b""  # signs the Responses API's reasoning envelopes
    # Stored responses and conversations (state/records.py); same backend as `turns`.
    records: RecordStore | None = None
    readiness: Readiness | None = None  # /readyz's cached, bounded probes
    # Persisted records this release does not read: counted and logged (state/ignored.py).
    ignored: IgnoredRecords = field(default_factory=IgnoredRecords)


@dataclass(slots=True)
class CallContext:
    request_id: str
    upstream_key: str | None  # None: use the server's keys
    created: int
    stats: CallStats = field(default_factory=CallStats)
    model: str = ""
    notes: list[str] = field(default_factory=list)
    history: str = ""  # x-gateway-history: what the history budget did ("" when it is off)
    # Whose remembered state this call may read and write (gateway/state/scope.py)
    scope: str = SHARED_SCOPE


class OwnedBody:
    """The parsed request body, handed over exactly once: after `take()` no caller's frame keeps
    megabytes of base64 alive while Gemini works (peak memory per image request). `spans`
    (where the reader found each long string in the request bytes) go with it."""

    __slots__ = ("_spans", "_value")

    def __init__(self, value: Any, spans: Spans | None = None) -> None:
        self._value = value
        self._spans = spans

    def take(self) -> Any:
        value, self._value = self._value, None
        return value

    def take_spans(self) -> Spans:
        spans, self._spans = self._spans, None
        return spans or {}
