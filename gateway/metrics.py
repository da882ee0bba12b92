"""Prometheus metrics, one registry per app (tests build many apps). No label ever holds a key."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
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
        self.turn_sources = Counter(
            "gateway_turn_sources",
            "Model turns not restored from the client's own carrier, by source",
            ["source"],
            registry=r,
        )
        self.turn_cache = Counter(
            "gateway_turn_cache_lookups", "Turn cache lookups by result", ["result"], registry=r
        )
        self.image_fetches = Counter(
            "gateway_image_fetches", "Image URL fetches by result", ["result"], registry=r
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors", "Upstream errors by code", ["code"], registry=r
        )

    def note(self, note: str) -> None:
        kind, _, value = note.partition(":")
        if kind == "signature_fallback":
            self.signature_fallbacks.labels(value).inc()
        elif kind == "turn_source":
            self.turn_sources.labels(value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
