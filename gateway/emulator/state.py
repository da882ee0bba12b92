"""What the emulator remembers between requests, for tests to assert on: every request as received,
every model turn issued, signature verdicts, cancelled streams and queued faults."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.emulator.faults import FaultQueue, parse_fault
from gateway.emulator.fields import signature_of
from gateway.emulator.history import SignatureCheck
from gateway.emulator.signatures import Signer

DEFAULT_MAX_RECORDED: Final = 200
MAX_REMEMBERED_SIGNATURES: Final = 100_000
_SIGNATURE_KEYS: Final = ("thoughtSignature", "thought_signature")


@dataclass
class RecordedRequest:
    """One request as the emulator saw it (the `key=` query parameter included, on purpose)."""

    path: str
    model: str | None
    method: str | None
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    http_method: str = "POST"
    backend: str = "ai-studio"  # or "vertex" (emulator/vertex.py)
    signature_checks: list[SignatureCheck] = field(default_factory=list)

    @property
    def verdicts(self) -> list[str]:
        """`ok` / `dummy` / `corrupted` / `missing`, one per checked model part, in order."""
        return [check.verdict for check in self.signature_checks]


class EmulatorState:
    """Shared by all requests of one emulator app; `app.state.emulator`."""

    def __init__(
        self,
        signer: Signer,
        max_recorded: int = DEFAULT_MAX_RECORDED,
        *,
        vertex_signer: Signer | None = None,
    ) -> None:
        self.signer = signer
        # Vertex AI paths sign with their own secret: signatures are bound to their backend.
        self.vertex_signer = vertex_signer or signer
        self.max_recorded = max_recorded
        self.requests: list[RecordedRequest] = []
        self.issued: list[dict[str, Any]] = []
        self.cancelled = 0
        self.faults = FaultQueue()
        self._issued_macs: dict[bytes, None] = {}

    def reset(self) -> None:
        self.requests.clear()
        self.issued.clear()
        self.cancelled = 0
        self.faults.clear()
        self._issued_macs.clear()

    def queue_fault(self, kind: str, **params: Any) -> None:
        """Queue a fault for the next generation request(s); `count=` says how many (default 1)."""
        count = int(params.pop("count", 1))
        self.faults.push(parse_fault(kind, params), count)

    @property
    def verdicts(self) -> list[list[str]]:
        return [request.verdicts for request in self.requests]

    @property
    def issued_macs(self) -> dict[bytes, None]:
        return self._issued_macs

    def record(self, request: RecordedRequest) -> None:
        self.requests.append(request)
        if len(self.requests) > self.max_recorded:
            del self.requests[: len(self.requests) - self.max_recorded]

    def remember(self, turns: list[dict[str, Any]], *, vertex: bool = False) -> None:
        """Log issued turns and the MACs of their signed parts (to spot dropped signatures)."""
        signer = self.vertex_signer if vertex else self.signer
        self.issued.extend(turns)
        if len(self.issued) > self.max_recorded:
            del self.issued[: len(self.issued) - self.max_recorded]
        for turn in turns:
            for part in turn["parts"]:
                if signature_of(part) is not None:
                    bare = {k: v for k, v in part.items() if k not in _SIGNATURE_KEYS}
                    self._issued_macs[signer.mac(bare)] = None
        while len(self._issued_macs) > MAX_REMEMBERED_SIGNATURES:
            del self._issued_macs[next(iter(self._issued_macs))]

    def note_cancelled(self) -> None:
        self.cancelled += 1

    def stats(self) -> dict[str, Any]:
        methods = Counter(r.method or "unknown" for r in self.requests)
        verdicts = Counter(v for r in self.requests for v in r.verdicts)
        return {
            "requests": len(self.requests),
            "methods": dict(methods),
            "issued": len(self.issued),
            "cancelled": self.cancelled,
            "pendingFaults": len(self.faults),
            "verdicts": dict(verdicts),
        }
