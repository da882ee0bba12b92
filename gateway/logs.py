"""Structured JSON logs and the one redaction point: keys, base64 payloads and signatures
never reach a log line. Every line carries the request id of the request it belongs to."""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

import orjson

_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_SECRET_RE: Final = re.compile(
    r"(AIza[0-9A-Za-z_\-]{10,}|sk-[0-9A-Za-z_\-]{8,}|ya29\.[0-9A-Za-z_\-.]+|"
    r"(?i:bearer)\s+[^\s\"']+|key=[^&\s\"']+)"
)
_BASE64_RE: Final = re.compile(r"[A-Za-z0-9+/=_-]{200,}")
# Signatures and inline bytes by their JSON key, whatever their length (short signatures exist).
_OPAQUE_FIELD_RE: Final = re.compile(
    r'"(thoughtSignature|thought_signature|signature|encrypted|data|file_data|b64_json)"'
    r'(\s*:\s*)"((?:[^"\\]|\\.)*)"'
)
_DATA_URL_RE: Final = re.compile(r"(;base64,)([A-Za-z0-9+/=_-]+)")
MAX_BODY_LOG_CHARS: Final = 64 * 1024

# Set by the request middleware; asyncio tasks inherit it, so the stream reader's lines carry it.
request_id_var: ContextVar[str] = ContextVar("request_id", default="")
_known_secrets: set[str] = set()
_slots: dict[str, str] = {}  # rotating secrets (access tokens): only the newest of each is kept
_secret_pattern: re.Pattern[str] | None = None


def add_secrets(*values: str) -> None:
    """Configured keys are scrubbed by value too, whatever their shape (not only `AIza…`)."""
    _known_secrets.update(v for v in values if len(v) >= 4)
    _compile()


def set_secret_slot(slot: str, value: str) -> None:
    """A secret that rotates (a Vertex access token): the new value replaces the old one's
    place. The old token is kept too until the next rotation, since requests may still log it."""
    old = _slots.get(slot)
    _slots[slot] = value
    _slots[slot + "/previous"] = old or value
    _compile()


def _compile() -> None:
    global _secret_pattern
    values = {v for v in (*_known_secrets, *_slots.values()) if len(v) >= 4}
    if values:
        ordered = sorted(values, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def _elide_field(match: re.Match[str]) -> str:
    return f'"{match.group(1)}"{match.group(2)}"[{len(match.group(3))} chars elided]"'


def redact(text: str) -> str:
    if _secret_pattern is not None:
        text = _secret_pattern.sub("[redacted]", text)
    text = _SECRET_RE.sub("[redacted]", text)
    text = _OPAQUE_FIELD_RE.sub(_elide_field, text)
    text = _DATA_URL_RE.sub(lambda m: f"{m.group(1)}[{len(m.group(2))} chars elided]", text)
    return _BASE64_RE.sub(lambda m: f"[{len(m.group(0))} chars elided]", text)


def body_for_log(body: bytes | str | Any) -> str:
    """A request/response body made safe for a log line: redacted first, then capped."""
    if isinstance(body, bytes | bytearray):
        text = bytes(body).decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:
        text = orjson.dumps(body, default=str).decode()
    text = redact(text)
    if len(text) > MAX_BODY_LOG_CHARS:
        text = text[:MAX_BODY_LOG_CHARS] + f"…[{len(text) - MAX_BODY_LOG_CHARS} more chars]"
    return text


def log_body(logger: logging.Logger, what: str, body: bytes | str | Any) -> None:
    """Only called when `log_bodies` is on: bodies are never logged by default."""
    logger.info("body", extra={"body_of": what, "body": body_for_log(body)})


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request_id = request_id_var.get()
            if request_id:
                record.request_id = request_id
        return True


# uvicorn adds `color_message`, the message again with ANSI colour codes: never in a JSON line.
# `message` and `asctime` are left on the record by any other handler's Formatter: `msg` says it.
_DROPPED = frozenset({"color_message", "message", "asctime"})


def _iso_time(created: float) -> str:
    """ISO-8601 in UTC with milliseconds, e.g. 2026-12-06T05:40:01.123Z."""
    stamp = datetime.fromtimestamp(created, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One redaction pass over the finished line covers every field, nested values included
    (a pass per field as well doubled the cost of the access log)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _DROPPED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(entry, default=str).decode())


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # HTTP clients log full URLs at INFO; ours carry no key, but keep their chatter out anyway.
    for name in ("httpx", "httpcore", "hpack", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
