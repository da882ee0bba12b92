"""Prometheus metrics, one registry per app (tests build many apps). No label ever holds a key,
and no label takes an unbounded set of values: model names and error codes come from clients
and upstreams, so each label keeps its first `MAX_LABEL_VALUES` values and folds the rest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.translate.response.usage import to_openai_usage

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
MAX_LABEL_VALUES: Final = 64
MAX_LABEL_CHARS: Final = 64
OTHER: Final = "other"
TOKEN_KINDS: Final = ("prompt", "completion", "reasoning", "image")


class BoundedLabel:
    """The values one label has taken; a new value past the cap becomes `other`."""

    def __init__(self, cap: int = MAX_LABEL_VALUES) -> None:
        self.cap = cap
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        value = value[:MAX_LABEL_CHARS]
        if value in self._seen:
            return value
        if len(self._seen) >= self.cap:
            return OTHER
        self._seen.add(value)
        return value


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.model_label = BoundedLabel()
        self.code_label = BoundedLabel()
        self.requests = Counter(
            "gateway_requests",
            "Requests by route, model and status",
            ["route", "model", "status"],
            registry=r,
        )
        self.in_flight = Gauge("gateway_in_flight_requests", "Requests in flight", registry=r)
        self.upstream_latency = Histogram(
            "gateway_upstream_latency_seconds",
            "Gemini call latency (to headers or first event)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttfb = Histogram(
            "gateway_time_to_first_byte_seconds",
            "Time to the first response byte",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter("gateway_upstream_retries", "Upstream retries", registry=r)
        self.signature_fallbacks = Counter(
            "gateway_signature_fallbacks",
            "Dummy signatures inserted, by part kind",
            ["kind"],
            registry=r,
        )
        self.signatures_dropped = Counter(
            "gateway_signature_dropped",
            "Signatures left out because another backend minted them (AI Studio vs Vertex AI)",
            ["reason"],
            registry=r,
        )
        self.turn_sources = Counter(
            "gateway_turn_sources",
            "Model turns not restored from the client's own carrier, by source",
            ["source"],
            registry=r,
        )
        self.responses_ignored = Counter(
            "gateway_responses_ignored",
            "Responses API items and reasoning envelopes skipped (foreign, edited, unknown)",
            ["kind"],
            registry=r,
        )
        self.turn_cache = Counter(
            "gateway_turn_cache_lookups", "Turn cache lookups by result", ["result"], registry=r
        )
        self.state_unavailable = Counter(
            "gateway_state_unavailable",
            "State store operations that failed (store down or slow): served statelessly",
            ["op"],
            registry=r,
        )
        self.records_ignored = Counter(
            "gateway_state_records_ignored",
            "Persisted records not read (newer than this release, or unreadable): a miss",
            ["kind", "reason"],
            registry=r,
        )
        self.image_fetches = Counter(
            "gateway_image_fetches", "Image URL fetches by result", ["result"], registry=r
        )
        self.native_repairs = Counter(
            "gateway_native_repairs",
            "Native-route request bodies repaired, by repair (snake_case, lone_signature)",
            ["kind"],
            registry=r,
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors", "Upstream errors by code", ["code"], registry=r
        )
        self.embedding_inputs = Counter(
            "gateway_embedding_inputs", "Texts embedded, by model", ["model"], registry=r
        )
        self.embedding_tokens = Counter(
            "gateway_embedding_tokens",
            "Input tokens embedded, by model (Gemini's count, or the gateway's estimate)",
            ["model"],
            registry=r,
        )
        self.tokens = Counter(
            "gateway_tokens",
            "Tokens Gemini reported, by model and kind: prompt, completion (thinking included, "
            "as in OpenAI usage), reasoning (thinking), image (generated image output)",
            ["model", "kind"],
            registry=r,
        )
        self.errors = Counter(
            "gateway_errors",
            "Errors sent to clients by code, as a response or as a final stream event",
            ["code"],
            registry=r,
        )

    def note(self, note: str) -> None:
        kind, _, value = note.partition(":")
        if kind == "signature_fallback":
            self.signature_fallbacks.labels(value).inc()
        elif kind == "signature_dropped":
            self.signatures_dropped.labels(value).inc()
        elif kind == "turn_source":
            self.turn_sources.labels(value).inc()
        elif kind == "responses_ignored":
            self.responses_ignored.labels(self.code_label(value)).inc()

    def record_ignored(self, kind: str, reason: str) -> None:
        """A persisted record not read (state/ignored.py); both labels are the gateway's own."""
        self.records_ignored.labels(kind, reason).inc()

    def error(self, code: str | None, *, upstream: bool) -> None:
        label = self.code_label(code or "error")
        self.errors.labels(label).inc()
        if upstream:
            self.upstream_errors.labels(label).inc()

    def usage(self, model: str, metas: Iterable[Any]) -> None:
        """Counts Gemini's usageMetadata (one per answer) with the same rule as the usage clients
        see (translate/response/usage.py); an unreadable one is skipped, never an error."""
        totals = dict.fromkeys(TOKEN_KINDS, 0)
        for meta in metas:
            try:
                usage = to_openai_usage(meta) if isinstance(meta, dict) and meta else None
            except (TypeError, ValueError, AttributeError):
                usage = None
            if usage is None:
                continue
            details = usage["completion_tokens_details"]
            totals["prompt"] += usage["prompt_tokens"]
            totals["completion"] += usage["completion_tokens"]
            totals["reasoning"] += details["reasoning_tokens"]
            totals["image"] += details.get("image_tokens", 0)
        label = self.model_label(model) if any(totals.values()) else ""
        for kind, count in totals.items():
            if count > 0:
                self.tokens.labels(label, kind).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
