"""What the shell looked up before translation, handed in as plain values (translate/ is pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from gateway.protocol.stand_in import Payload
from gateway.protocol.turn_record import TurnRecord


@dataclass(frozen=True, slots=True)
class Resolved:
    images: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # url -> (mime, base64)
    turns: Mapping[str, TurnRecord] = field(default_factory=dict)  # cache key -> turn record
    hosted_base: str | None = None  # our own public URL, to recognise hosted image URLs
    # Data URLs the shell split while reading the body, by identity: id(url) -> (url, payload).
    # Translation puts that payload (the text, or a stand-in) into `inlineData.data` instead
    # of slicing its own copy (the splice path: protocol/stand_in.py).
    payloads: Mapping[int, tuple[str, Payload]] = field(default_factory=dict)
    # The backend this request goes to: signatures minted elsewhere are dropped (origin.py).
    backend: str = ""

    def without_payloads(self) -> Resolved:
        """For assistant turns: their images are compared by content (fingerprints, the
        carrier check), so they need the text itself, never a stand-in."""
        return replace(self, payloads={}) if self.payloads else self

    def payload_of(self, url: str) -> Payload | None:
        known = self.payloads.get(id(url))
        return known[1] if known is not None and known[0] is url else None


@dataclass(frozen=True, slots=True)
class Needs:
    """What translation will need: URLs to fetch or look up, and turn-cache keys to read."""

    fetch_urls: tuple[tuple[str, str], ...] = ()  # (url, param)
    hosted_urls: tuple[tuple[str, str], ...] = ()  # (url, param)
    turn_keys: tuple[str, ...] = ()
