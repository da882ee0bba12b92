"""Gemini's SSE stream cut into events without parsing them: the native routes relay each event's
bytes as Gemini sent them, one write per event.

Unlike `decode.SSEDecoder` (which hands chat parsed events), nothing here looks inside an event
or copies it more than once: network reads are kept as they are until a line ends, and a
complete `data:` line is joined once, straight into the frame that goes to the client
(`data: <payload>\\r\\n\\r\\n`), so a 5 MB image event costs one copy. Comments, `event:` and
`id:` lines carry nothing for Gemini's clients and are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from gateway.errors import UpstreamError
from gateway.upstream.decode import MAX_EVENT_BYTES

END: Final = b"\r\n\r\n"
DATA: Final = b"data: "


class EventFrames:
    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self._line: list[bytes] = []  # pieces of the line not yet ended
        self._line_bytes = 0
        self._data: list[bytes] = []  # the event's data lines, each framed as if alone

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Frames (`data: ...\\r\\n\\r\\n`) of the events `chunk` completes, in order."""
        start = 0
        while True:
            idx = chunk.find(b"\n", start)
            if idx < 0:
                if start < len(chunk):
                    piece = chunk[start:] if start else chunk
                    self._line.append(piece)
                    self._line_bytes += len(piece)
                    if self._line_bytes > self.max_event_bytes:
                        raise UpstreamError("Gemini stream event exceeds the size limit")
                return
            stop = idx - 1 if idx > start and chunk[idx - 1] == 0x0D else idx
            frame = self._end_line(chunk[start:stop])
            start = idx + 1
            if frame is not None:
                yield frame

    def close(self) -> Iterator[bytes]:
        """End of body: a last event without its blank line still counts."""
        if self._line:
            frame = self._end_line(b"")
            if frame is not None:
                yield frame
        frame = self._dispatch()
        if frame is not None:
            yield frame

    def _end_line(self, tail: bytes) -> bytes | None:
        """The line made of the pending pieces and `tail` has ended; a frame if it was blank."""
        if not self._line:
            if not tail:
                return self._dispatch()
            if tail.startswith(b"data:"):
                self._data.append(self._framed([tail]))
            return None
        pieces = [*self._line, tail]
        self._line, self._line_bytes = [], 0
        if not tail and pieces[-2].endswith(b"\r"):  # a CRLF split across two reads
            pieces[-2] = pieces[-2][:-1]
        pieces = [piece for piece in pieces if piece]
        if not pieces:
            return self._dispatch()
        head = pieces[0] if len(pieces[0]) >= 5 else b"".join(pieces)[:5]
        if head.startswith(b"data:"):
            self._data.append(self._framed(pieces))
        return None

    @staticmethod
    def _framed(pieces: list[bytes]) -> bytes:
        """One data line as a whole frame, made in one join (the common single-line event)."""
        if pieces[0].startswith(DATA):
            return b"".join([*pieces, END])
        joined = b"".join(pieces)  # `data:` without its space: rare, copied once more
        return DATA + joined[5:].lstrip(b" ") + END

    def _dispatch(self) -> bytes | None:
        if not self._data:
            return None
        data, self._data = self._data, []
        if len(data) == 1:
            return data[0]
        # Several data lines make one payload joined by newlines (the SSE rule).
        payload = b"\n".join(frame[len(DATA) : -len(END)] for frame in data)
        return DATA + payload + END


def payload_of(frame: bytes) -> memoryview:
    """The event's JSON inside a frame made here."""
    return memoryview(frame)[len(DATA) : -len(END)]
