"""One frozen Settings object: defaults < config file (TOML) < environment < CLI flags.

Every option is documented in config/gateway.toml with its environment variable, and the
environment variables in README.md's table (tests/test_config_drift.py keeps the three equal).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gateway.config_checks import (
    LOG_LEVELS,
    check_choice,
    check_numbers,
    check_state_url,
    parse_bool,
    suggest,
)

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Upstream
    upstream: str = "gemini"  # "gemini", "vertex" or "emulator"
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v1beta"
    api_keys: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    read_timeout: float = 300.0
    total_timeout: float = 600.0
    max_retries: int = 1
    retry_max_wait: float = 5.0
    keepalive_interval: float = 15.0
    max_connections: int = 256
    # One upstream answer (a unary body, or one stream event) may occupy at most this much:
    # a 4K image is ~30 MB of base64, so two fit; beyond, a 502 instead of gigabytes held.
    upstream_max_bytes: int = 64 * 1024 * 1024
    # Vertex AI (README "Vertex AI"; gateway/upstream/vertex*.py)
    use_vertexai: bool = False  # GOOGLE_GENAI_USE_VERTEXAI, like google-genai
    vertex_project: str = ""  # empty: the project of the Application Default Credentials
    vertex_location: str = "global"
    vertex_locations: tuple[tuple[str, str], ...] = ()  # (model-name prefix, location)
    vertex_api_version: str = "v1beta1"
    vertex_base_url: str = ""  # empty: Google's host for the location
    vertex_credentials: str = ""  # a credentials JSON file; empty: the ADC chain
    vertex_quota_project: str = ""
    # Clients
    client_keys: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 100 * 1024 * 1024
    # Client connections (gateway/http_protocol.py, serving/body_deadline.py). Headers must be
    # complete this long after a connection opens or a request begins; a body may go silent
    # this long; an idle keep-alive connection closes after idle_timeout (above the 5 s after
    # which the OpenAI SDKs' pools drop one, so a reused connection is rarely closed under a
    # client); beyond max_concurrency connections or requests, new requests get a 503.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: int = 10
    max_concurrency: int = 1024
    # Bodies of 1 MiB or more read and parsed at once; uploads slower than a quarter second read
    # on without a place (serving/body_gate.py). One measured least CPU and memory on one core.
    max_concurrent_large: int = 1
    # Images
    image_markdown: bool = True
    thought_images: bool = False
    image_limits: tuple[tuple[str, int], ...] = ()  # overrides of translate/families.py
    stream_content_piece: int = 256 * 1024
    # Embeddings: inputs in one /v1/embeddings request (sent to Gemini 100 per call)
    embeddings_max_inputs: int = 2048
    # Image URL fetching
    fetch_images: bool = True
    fetch_allow_http: bool = True
    fetch_allowed_hosts: tuple[str, ...] = ()
    fetch_max_bytes: int = 20 * 1024 * 1024
    fetch_timeout: float = 20.0
    # State
    state: str = "memory"
    state_max_bytes: int = 1024 * 1024 * 1024
    state_max_age: float = 7 * 24 * 3600.0
    # Stored responses and conversations (/v1/responses, /v1/conversations)
    responses_max_age: float = 30 * 24 * 3600.0
    responses_max_bytes: int = 1024 * 1024 * 1024
    responses_secret: str = ""  # signs reasoning envelopes; "" = a random one kept in the state
    state_prefix: str = "gw:"  # Redis key prefix (several gateways may share one Redis)
    state_pool_size: int = 16  # Redis connections per process
    state_timeout: float = 1.0  # seconds per Redis operation before serving statelessly
    state_max_value_bytes: int = 64 * 1024 * 1024  # one Redis value; larger is not stored
    state_local_cache_bytes: int = 64 * 1024 * 1024  # immutable Redis values kept per process
    workers: int = 1  # processes sharing the port (serve --workers)
    # Hosted images
    public_url: str = ""
    files_require_auth: bool = False
    # History budget
    history_budget: str = "off"  # "off" | "trim" | "downsample" | "trim+downsample"
    history_keep_turns: int = 0
    history_max_tokens: int = 0  # 0: the model's input limit
    # Native Gemini routes: opt-in steps (a request header overrides each)
    native_history_budget: str = "off"  # the history budget on native `contents`
    native_hosted_images: bool = False  # gateway-hosted image URLs in fileData → inline bytes
    # Observability
    log_level: str = "info"
    log_bodies: bool = False
    metrics: bool = True
    drain_seconds: float = 25.0
    # /readyz (serving/readiness.py): a probe's result is reused this long; each check's bound;
    # whether a state store outage alone makes the replica unready (503 "degraded")
    ready_cache_seconds: float = 5.0
    ready_timeout: float = 2.0
    ready_require_state: bool = True
    # Browser playground at / and /playground
    playground: bool = True
    # Behind a reverse proxy
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    root_path: str = ""

    @property
    def key_configured(self) -> bool:
        return bool(self.api_keys)

    @property
    def vertex(self) -> bool:
        """Vertex AI upstream (on Google or on the emulator's Vertex paths)."""
        return self.upstream == "vertex" or self.use_vertexai

    @property
    def vertex_express(self) -> bool:
        """Vertex with an API key and no project: the key-based express-mode paths."""
        return self.vertex and bool(self.api_keys) and not self.vertex_project


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _bool(value: str) -> bool:
    return parse_bool(value)


# env var -> (field, parser)
ENV_TO_FIELD: dict[str, tuple[str, Any]] = {
    "GATEWAY_HOST": ("host", str),
    "GATEWAY_PORT": ("port", int),
    "GATEWAY_UPSTREAM": ("upstream", str),
    "GOOGLE_GEMINI_BASE_URL": ("base_url", str),
    "GOOGLE_GENAI_API_VERSION": ("api_version", str),
    "GOOGLE_API_KEY": ("api_keys", _csv),
    "GEMINI_API_KEY": ("api_keys", _csv),
    "GOOGLE_GENAI_USE_VERTEXAI": ("use_vertexai", _bool),
    "GOOGLE_CLOUD_PROJECT": ("vertex_project", str),
    "GOOGLE_CLOUD_LOCATION": ("vertex_location", str),
    "GATEWAY_VERTEX_API_VERSION": ("vertex_api_version", str),
    "GOOGLE_VERTEX_BASE_URL": ("vertex_base_url", str),
    "GOOGLE_APPLICATION_CREDENTIALS": ("vertex_credentials", str),
    "GOOGLE_CLOUD_QUOTA_PROJECT": ("vertex_quota_project", str),
    "GATEWAY_CONNECT_TIMEOUT": ("connect_timeout", float),
    "GATEWAY_READ_TIMEOUT": ("read_timeout", float),
    "GATEWAY_TOTAL_TIMEOUT": ("total_timeout", float),
    "GATEWAY_MAX_RETRIES": ("max_retries", int),
    "GATEWAY_RETRY_MAX_WAIT": ("retry_max_wait", float),
    "GATEWAY_KEEPALIVE_INTERVAL": ("keepalive_interval", float),
    "GATEWAY_MAX_CONNECTIONS": ("max_connections", int),
    "GATEWAY_UPSTREAM_MAX_BYTES": ("upstream_max_bytes", int),
    "GATEWAY_API_KEYS": ("client_keys", _csv),
    "GATEWAY_CORS_ORIGINS": ("cors_origins", _csv),
    "GATEWAY_MAX_BODY_BYTES": ("max_body_bytes", int),
    "GATEWAY_MAX_CONCURRENT_LARGE": ("max_concurrent_large", int),
    "GATEWAY_HEADER_TIMEOUT": ("header_timeout", float),
    "GATEWAY_BODY_TIMEOUT": ("body_timeout", float),
    "GATEWAY_IDLE_TIMEOUT": ("idle_timeout", int),
    "GATEWAY_MAX_CONCURRENCY": ("max_concurrency", int),
    "GATEWAY_IMAGE_MARKDOWN": ("image_markdown", _bool),
    "GATEWAY_THOUGHT_IMAGES": ("thought_images", _bool),
    "GATEWAY_EMBEDDINGS_MAX_INPUTS": ("embeddings_max_inputs", int),
    "GATEWAY_STREAM_CONTENT_PIECE": ("stream_content_piece", int),
    "GATEWAY_FETCH_IMAGES": ("fetch_images", _bool),
    "GATEWAY_FETCH_ALLOW_HTTP": ("fetch_allow_http", _bool),
    "GATEWAY_FETCH_ALLOWED_HOSTS": ("fetch_allowed_hosts", _csv),
    "GATEWAY_FETCH_MAX_BYTES": ("fetch_max_bytes", int),
    "GATEWAY_FETCH_TIMEOUT": ("fetch_timeout", float),
    "GATEWAY_STATE": ("state", str),
    "GATEWAY_STATE_MAX_BYTES": ("state_max_bytes", int),
    "GATEWAY_STATE_MAX_AGE": ("state_max_age", float),
    "GATEWAY_RESPONSES_MAX_AGE": ("responses_max_age", float),
    "GATEWAY_RESPONSES_MAX_BYTES": ("responses_max_bytes", int),
    "GATEWAY_RESPONSES_SECRET": ("responses_secret", str),
    "GATEWAY_STATE_PREFIX": ("state_prefix", str),
    "GATEWAY_STATE_POOL_SIZE": ("state_pool_size", int),
    "GATEWAY_STATE_TIMEOUT": ("state_timeout", float),
    "GATEWAY_STATE_MAX_VALUE_BYTES": ("state_max_value_bytes", int),
    "GATEWAY_STATE_LOCAL_CACHE_BYTES": ("state_local_cache_bytes", int),
    "GATEWAY_WORKERS": ("workers", int),
    "GATEWAY_PUBLIC_URL": ("public_url", str),
    "GATEWAY_FILES_REQUIRE_AUTH": ("files_require_auth", _bool),
    "GATEWAY_HISTORY_BUDGET": ("history_budget", str),
    "GATEWAY_HISTORY_KEEP_TURNS": ("history_keep_turns", int),
    "GATEWAY_HISTORY_MAX_TOKENS": ("history_max_tokens", int),
    "GATEWAY_NATIVE_HISTORY_BUDGET": ("native_history_budget", str),
    "GATEWAY_NATIVE_HOSTED_IMAGES": ("native_hosted_images", _bool),
    "GATEWAY_LOG_LEVEL": ("log_level", str),
    "GATEWAY_LOG_BODIES": ("log_bodies", _bool),
    "GATEWAY_METRICS": ("metrics", _bool),
    "GATEWAY_DRAIN_SECONDS": ("drain_seconds", float),
    "GATEWAY_READY_CACHE_SECONDS": ("ready_cache_seconds", float),
    "GATEWAY_READY_TIMEOUT": ("ready_timeout", float),
    "GATEWAY_READY_REQUIRE_STATE": ("ready_require_state", _bool),
    "GATEWAY_PLAYGROUND": ("playground", _bool),
    "GATEWAY_PROXY_HEADERS": ("proxy_headers", _bool),
    "GATEWAY_FORWARDED_ALLOW_IPS": ("forwarded_allow_ips", str),
    "GATEWAY_ROOT_PATH": ("root_path", str),
}

# Every GATEWAY_* variable the gateway reads, plus the examples' GATEWAY_URL and the test
# suite's GATEWAY_REQUIRE_BROWSER, which a shell may hold too (cli.py warns about the others).
KNOWN_VARIABLES: Final = frozenset(
    {*ENV_TO_FIELD, "GATEWAY_CONFIG", "GATEWAY_URL", "GATEWAY_REQUIRE_BROWSER"}
)

_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    """File values arrive typed by TOML; lists become tuples, image_limits a tuple of pairs."""
    if name == "image_limits" and isinstance(value, Mapping):
        return tuple((str(k), int(v)) for k, v in value.items())
    if name == "vertex_locations" and isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if name in {"api_keys", "client_keys", "cors_origins", "fetch_allowed_hosts"} and isinstance(
        value, str
    ):
        return _csv(value)
    return value


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read the config file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the config file {path} is not valid TOML: {exc}") from exc
    flat: dict[str, Any] = {}
    for section, values in data.items():
        tables = ("image_limits", "vertex_locations")
        items = values.items() if isinstance(values, dict) and section not in tables else None
        if items is None:
            flat[section] = values
            continue
        for key, value in items:
            flat[key] = value
    unknown = sorted(set(flat) - set(_FIELDS))
    if unknown:
        named = ", ".join(f"{u!r}{suggest(u, _FIELDS)}" for u in unknown)
        raise ValueError(f"unknown option(s) in {path}: {named}")
    for key, value in flat.items():
        _check_file_type(path, key, value)
    return {k: _coerce(k, v) for k, v in flat.items()}


def _check_file_type(path: Path, key: str, value: Any) -> None:
    """TOML types its values: a quoted "true" or "8080" for a bool or number is a mistake."""
    default = _FIELDS[key].default
    expected: type | tuple[type, ...] | None = None
    if isinstance(default, bool):
        expected = bool
    elif isinstance(default, int):
        expected = int
    elif isinstance(default, float):
        expected = (int, float)
    if expected is None:
        return
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        want = "true or false" if expected is bool else "a number"
        raise ValueError(f"{key} in {path} must be {want} (unquoted), got {value!r}")


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    # GOOGLE_API_KEY first so GEMINI_API_KEY (listed later) wins when both are set.
    for var, (name, parse) in ENV_TO_FIELD.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            detail = f" ({exc})" if parse is _bool else ""
            raise ValueError(f"{var}: cannot parse {raw!r}{detail}") from exc
    return values


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(env.get("GATEWAY_CONFIG", ""))
    if config_file or env.get("GATEWAY_CONFIG"):
        merged.update(_from_file(path))
    merged.update(_from_env(env))
    merged.update({k: v for k, v in (flags or {}).items() if v is not None})
    settings = Settings(**merged)
    _check(settings)
    return settings


def _check_limits(settings: Settings) -> None:
    """Connection and size limits: a zero would refuse everything (or nothing)."""
    if settings.max_concurrent_large < 1:
        raise ValueError("GATEWAY_MAX_CONCURRENT_LARGE must be at least 1")
    if min(settings.header_timeout, settings.body_timeout, settings.idle_timeout) <= 0:
        raise ValueError(
            "GATEWAY_HEADER_TIMEOUT, GATEWAY_BODY_TIMEOUT and GATEWAY_IDLE_TIMEOUT must be positive"
        )
    if settings.upstream_max_bytes < 1024 * 1024:
        raise ValueError("GATEWAY_UPSTREAM_MAX_BYTES must be at least 1 MiB")
    if settings.max_concurrency < 1:
        raise ValueError("GATEWAY_MAX_CONCURRENCY must be at least 1")


def _env_names() -> dict[str, str]:
    """field -> the variable that sets it, for messages (the last one listed wins)."""
    return {name: var for var, (name, _parse) in ENV_TO_FIELD.items()}


def _check(settings: Settings) -> None:
    names = _env_names()
    check_choice(names["log_level"], settings.log_level.lower(), LOG_LEVELS)
    check_state_url(names["state"], settings.state)
    if settings.upstream not in {"gemini", "vertex", "emulator"}:
        raise ValueError("upstream must be 'gemini', 'vertex' or 'emulator'")
    if not settings.base_url.startswith(("http://", "https://")):
        raise ValueError("GOOGLE_GEMINI_BASE_URL must start with http:// or https://")
    if settings.vertex_base_url and not settings.vertex_base_url.startswith(
        ("http://", "https://")
    ):
        raise ValueError("GOOGLE_VERTEX_BASE_URL must start with http:// or https://")
    _check_vertex(settings)
    for name in ("history_budget", "native_history_budget"):
        if getattr(settings, name) not in {"off", "trim", "downsample", "trim+downsample"}:
            raise ValueError(f"{name} must be off, trim, downsample or trim+downsample")
    if settings.history_keep_turns < 0 or settings.history_max_tokens < 0:
        raise ValueError("history_keep_turns and history_max_tokens must not be negative")
    if settings.embeddings_max_inputs < 1:
        raise ValueError("GATEWAY_EMBEDDINGS_MAX_INPUTS must be at least 1")
    _check_limits(settings)
    check_numbers(dataclasses.asdict(settings), names)  # after the specific rules and messages
    if (
        settings.client_keys
        and not settings.api_keys
        and settings.upstream == "gemini"
        and not settings.vertex
    ):
        # Client keys turn pass-through off, so every call would reach Gemini with no key.
        raise ValueError(
            "GATEWAY_API_KEYS is set but no server key is: set GEMINI_API_KEY (or GOOGLE_API_KEY)"
            " too, or unset GATEWAY_API_KEYS to let callers pass their own Gemini keys"
        )


_LOCATION = re.compile(r"[a-z][a-z0-9-]{0,62}")
_PROJECT = re.compile(r"[a-z0-9][a-z0-9.:-]{0,127}")


def _check_vertex(settings: Settings) -> None:
    """Project and locations go into the URL (the location into the host name)."""
    locations = [settings.vertex_location, *(loc for _, loc in settings.vertex_locations)]
    bad = [loc for loc in locations if not _LOCATION.fullmatch(loc)]
    if bad:
        raise ValueError(f"not a Vertex AI location: {bad[0]!r} (e.g. global, us-central1, eu)")
    if settings.vertex_project and not _PROJECT.fullmatch(settings.vertex_project):
        raise ValueError(f"GOOGLE_CLOUD_PROJECT {settings.vertex_project!r} is not a project id")
