"""Incremental decoding of Gemini's stream body: bytes in, one parsed event at a time out.

Handles `\\n\\n`, `\\r\\n\\r\\n` and mixed framing (sample 01 has `\\n\\r\\n`), events spread over
many network reads, and multi-MB single-line events (each byte is scanned once).

`feed` is a generator: the events before a malformed one in the same network read still reach
the client, so a bad chunk mid-stream becomes an in-band error after them, not a lost prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from gateway import lifted_json
from gateway.errors import UpstreamError

MAX_EVENT_BYTES = 64 * 1024 * 1024  # the default of GATEWAY_UPSTREAM_MAX_BYTES


class SSEDecoder:
    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = bytearray()
        self._scan_from = 0
        self._data: list[bytes] = []
        self._event_bytes = 0
        self.max_event_bytes = max_event_bytes

    def feed(self, chunk: bytes) -> Iterator[Any]:
        """Parsed events completed by `chunk`; consume it fully before the next feed."""
        self._buffer += chunk
        while True:
            idx = self._buffer.find(b"\n", self._scan_from)
            if idx < 0:
                self._scan_from = len(self._buffer)
                if self._event_bytes + len(self._buffer) > self.max_event_bytes:
                    raise UpstreamError(
                        "Gemini stream event exceeds the size limit (GATEWAY_UPSTREAM_MAX_BYTES)"
                    )
                return
            line = bytes(self._buffer[:idx])
            del self._buffer[: idx + 1]
            self._scan_from = 0
            event = self._line(line.rstrip(b"\r"))
            if event is not None:
                yield event

    def _line(self, line: bytes) -> Any:
        if not line:
            return self._dispatch()
        if line.startswith(b"data:"):
            payload = line[5:]
            if payload.startswith(b" "):
                payload = payload[1:]
            self._data.append(payload)
            self._event_bytes += len(payload)
            if self._event_bytes > self.max_event_bytes:
                raise UpstreamError(
                    "Gemini stream event exceeds the size limit (GATEWAY_UPSTREAM_MAX_BYTES)"
                )
        # comments (`:`), `event:`, `id:` and `retry:` lines carry nothing for us
        return None

    def _dispatch(self) -> Any:
        if not self._data:
            return None
        payload = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        self._data = []
        self._event_bytes = 0
        try:
            return lifted_json.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini sent a stream event that is not valid JSON") from exc

    def close(self) -> Iterator[Any]:
        """End of body: a last event without its blank line still counts."""
        if self._buffer:
            yield from self.feed(b"\n")
        tail = self._dispatch()
        if tail is not None:
            yield tail
