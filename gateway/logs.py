"""Structured JSON logs and the one redaction point: keys, base64 payloads and signatures
never reach a log line."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Final

import orjson

_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_SECRET_RE: Final = re.compile(
    r"(AIza[0-9A-Za-z_\-]{10,}|sk-[0-9A-Za-z_\-]{8,}|(?i:bearer)\s+[^\s\"']+|key=[^&\s\"']+)"
)
_BASE64_RE: Final = re.compile(r"[A-Za-z0-9+/=_-]{200,}")


def redact(text: str) -> str:
    text = _SECRET_RE.sub("[redacted]", text)
    return _BASE64_RE.sub(lambda m: f"[{len(m.group(0))} chars elided]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs full URLs at INFO; ours carry no key, but keep its chatter out anyway.
    for name in ("httpx", "httpcore", "hpack"):
        logging.getLogger(name).setLevel(logging.WARNING)
