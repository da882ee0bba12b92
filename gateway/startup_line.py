"""The one start-up log line that says how this gateway runs, so an operator reading the log of
a misbehaving deployment sees its mode without reading its configuration. Never a secret: keys
are counted, URLs lose their user-info (a Redis password) and query."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gateway.config import Settings


def without_secrets(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def upstream_mode(settings: Settings) -> str:
    if settings.upstream != "gemini":
        return settings.upstream  # emulator, vertex, ...
    if settings.api_keys:
        return f"server keys ({len(settings.api_keys)})"
    return "pass-through (each caller's own Gemini key)"


def fetch_policy(settings: Settings) -> str:
    if not settings.fetch_images:
        return "off"
    hosts = ",".join(settings.fetch_allowed_hosts) if settings.fetch_allowed_hosts else "any"
    return f"on (hosts: {hosts}, http: {'yes' if settings.fetch_allow_http else 'no'})"


def describe(settings: Settings) -> dict[str, Any]:
    return {
        "listen": f"{settings.host}:{settings.port}",
        "upstream": without_secrets(settings.base_url) if settings.upstream == "gemini" else "",
        "upstream_mode": upstream_mode(settings),
        "client_keys": f"on ({len(settings.client_keys)})" if settings.client_keys else "off",
        "state": without_secrets(settings.state),
        "public_url": settings.public_url or "off (images inline as data URLs)",
        "history_budget": settings.history_budget,
        "fetch_images": fetch_policy(settings),
        "playground": getattr(settings, "playground", False),
    }
