"""The streaming twin of responses.py: the Responses event grammar over Gemini's stream.

`response.created` first (once Gemini's first event is in, as chat holds its 200 back), then
`response.in_progress`, item and part events as parts arrive (output.py), and a terminal
`response.completed` (or `response.incomplete`) carrying the whole response. Every event has
`sequence_number` and is flushed as it comes; there is no `[DONE]`. A failure after the first
event ends the stream with an `error` event and `response.failed`, never silently.
The upstream reader, keep-alives and cancellation are chat_stream.py's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from gateway.errors import GatewayError, UpstreamError
from gateway.serving.chat_stream import _END, KEEPALIVE, ChatStream
from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.responses import ResponsesCall, finish_call, prepare_responses
from gateway.translate.response.completion import no_candidates
from gateway.translate.responses.reply import ReplyReader, response_object

log = logging.getLogger("gateway.serving")
Json = dict[str, Any]


class ResponsesStream(ChatStream):
    def __init__(self, call: CallContext, services: Services, scope: str) -> None:
        super().__init__(call, services)
        self.scope = scope
        self.rc: ResponsesCall | None = None
        self.sequence = 0

    async def start(self, owned: OwnedBody) -> None:
        self.rc = await prepare_responses(owned, self.call, self.services, self.scope)
        await self.begin(self.rc.prepared)

    def _frames(self, events: Iterable[Json]) -> bytes:
        out: list[bytes] = []
        for event in events:
            event["sequence_number"] = self.sequence
            self.sequence += 1
            out.append(b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event))
            out.append(b"\n\n")
        return b"".join(out)

    def _drain(self, reader: ReplyReader) -> bytes:
        events, reader.builder.events = reader.builder.events, []
        return self._frames(events)

    def _snapshot(self, reader: ReplyReader, status: str, **fields: Any) -> Json:
        assert self.rc is not None
        rc = self.rc
        items = [dict(item) for item in reader.builder.items]
        return response_object(
            rc.ctx, rc.echo, rc.created_at, status=status, output=items, **fields
        )

    async def body(self) -> AsyncIterator[bytes]:
        assert self.rc is not None
        rc = self.rc
        reader = ReplyReader(rc.ctx, streaming=True)
        interval = self.services.settings.keepalive_interval
        first = True
        try:
            opening = [
                {"type": kind, "response": {**self._snapshot(reader, "in_progress"), "output": []}}
                for kind in ("response.created", "response.in_progress")
            ]
            yield self._frames(opening) + self._drain(reader)
            while True:
                item = await self._next(interval)
                if item is KEEPALIVE:
                    yield KEEPALIVE
                    continue
                if item is _END:
                    break
                if isinstance(item, GatewayError):
                    raise item
                if first:
                    first = False
                    waited = time.perf_counter() - self.started
                    self.call.stats.upstream_ms = waited * 1000
                    self.services.metrics.upstream_latency.observe(waited)
                reader.feed(item)
                frames = self._drain(reader)
                if frames:
                    yield frames
            if not reader.answered and reader.blocked_note is None:
                raise no_candidates()  # the unary answer's error, word for word
            if not reader.finished:
                raise UpstreamError(
                    "Gemini's stream ended before the response was complete (no finishReason)",
                    code="upstream_incomplete",
                )
            status, incomplete, usage = reader.finish()
            response = self._snapshot(
                reader,
                status,
                usage=usage,
                incomplete=incomplete,
                completed_at=int(time.time()),
            )
            await finish_call(rc, response, reader.builder, self.services)
            kind = "response.completed" if status == "completed" else "response.incomplete"
            yield self._drain(reader) + self._frames([{"type": kind, "response": response}])
        except GatewayError as err:
            yield self._failed_events(err, reader)
        except Exception as exc:  # after the 200, a bug must still end the stream in-band
            log.error("stream failed", exc_info=exc, extra={"request_id": self.call.request_id})
            yield self._failed_events(GatewayError("internal error in the gateway"), reader, False)
        finally:
            await self.aclose()

    def _failed_events(
        self, err: GatewayError, reader: ReplyReader, upstream: bool = True
    ) -> bytes:
        log.warning(
            "stream ended with an error",
            extra={
                "request_id": self.call.request_id,
                "code": err.code,
                "status": err.status,
                "model": self.call.model,
            },
        )
        self.services.metrics.error(err.code, upstream=upstream)
        code = "rate_limit_exceeded" if err.status == 429 else "server_error"  # the SDK's enum
        error = {"code": code, "message": err.message}
        events: list[Json] = [
            {"type": "error", "code": err.code, "message": err.message, "param": err.param},
            {"type": "response.failed", "response": self._snapshot(reader, "failed", error=error)},
        ]
        return self._frames(events)
