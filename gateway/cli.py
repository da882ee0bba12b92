"""`gemini-gateway serve|emulator`: flags → Settings → uvicorn. The only place that composes
the emulator into the gateway (as an in-process upstream transport)."""

from __future__ import annotations

import argparse
import inspect
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from gateway import __version__, healthcheck, heap, startup_line
from gateway.app import build_app
from gateway.config import KNOWN_VARIABLES, Settings, load_settings
from gateway.config_checks import unknown_variables
from gateway.logs import configure_logging
from gateway.state.open_state import shared_between_processes
from gateway.state.schema_check import check_state_schema

log = logging.getLogger("gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gemini-gateway",
        description="OpenAI-compatible gateway in front of Google Gemini.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080)")
    serve.add_argument("--config", help="TOML config file (see config/gateway.toml)")
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error", "critical"], help="log level"
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        default=None,
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (the client IP in logs)",
    )
    serve.add_argument(
        "--forwarded-allow-ips", help="proxies trusted for forwarded headers (default 127.0.0.1)"
    )
    serve.add_argument("--root-path", help="path prefix a reverse proxy mounts the gateway under")
    serve.add_argument(
        "--emulator", action="store_true", help="use the built-in Gemini emulator (no key, offline)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="processes sharing the port (default 1; more need sqlite or redis state)",
    )
    health = sub.add_parser(
        "healthcheck", help="exit 0 when this host's gateway answers /healthz (container probe)"
    )
    health.add_argument("--config", help="TOML config file (the port is read from it)")
    emulator = sub.add_parser("emulator", help="serve the Gemini emulator alone (a fake Gemini)")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8090)
    return parser


def _is_public(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host not in {"localhost"}


def _warn_unsafe(settings: Settings) -> None:
    if _is_public(settings.host) and settings.api_keys and not settings.client_keys:
        log.warning(
            "binding a public address with a server Gemini key and no GATEWAY_API_KEYS: anyone "
            "who reaches this port spends your quota. Set GATEWAY_API_KEYS."
        )


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.drain_seconds),
        "server_header": False,
        "timeout_keep_alive": settings.idle_timeout,
        "limit_concurrency": settings.max_concurrency,
        "proxy_headers": settings.proxy_headers,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "root_path": settings.root_path,
    }
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        options["loop"] = "asyncio"
    options["http"] = http_protocol(settings.header_timeout)
    return options


def http_protocol(header_timeout: float | None = None) -> Any:
    """uvicorn's httptools protocol without its two body copies and with a header deadline,
    with the uvicorn it was checked against; otherwise uvicorn's own choice ("auto"), and h11
    without httptools (uvicorn's own limits only: no header deadline)."""
    try:
        from gateway import http_protocol as lean
    except ImportError:
        return "h11"
    reason = lean.mismatch()
    if reason is not None:
        log.warning("serving with uvicorn's stock protocol (no header deadline): %s", reason)
        return "auto"
    if header_timeout is None:
        return lean.LeanBodyHttpToolsProtocol
    return lean.with_header_timeout(header_timeout)


def server(config: uvicorn.Config, app: Starlette) -> uvicorn.Server:
    """DrainingServer when uvicorn's exit hook is the one it overrides, else uvicorn's own (then
    streams still running at the drain's end are cut instead of ending in-band)."""
    reason = DrainingServer.mismatch(config)
    if reason is None:
        return DrainingServer(config, app)
    log.warning("shutting down without the in-band drain: %s", reason)
    return uvicorn.Server(config)


def _serve_flags(args: argparse.Namespace) -> dict[str, Any]:
    flags: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_level": args.log_level,
        "proxy_headers": args.proxy_headers,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "root_path": args.root_path,
    }
    if args.emulator:  # GATEWAY_UPSTREAM=vertex stays Vertex: the emulator's Vertex paths
        vertex = load_settings(config_file=args.config, flags=flags).vertex
        flags.update(upstream="emulator", use_vertexai=vertex or None)
    return flags


def check_workers(settings: Settings) -> None:
    """Several processes must share what they remember, or turn 2 on another worker loses
    turn 1's signatures: refuse before binding anything."""
    if settings.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {settings.workers}")
    if settings.workers > 1 and not shared_between_processes(settings.state):
        raise ValueError(
            f"--workers {settings.workers} needs state shared between processes, and "
            f"GATEWAY_STATE={settings.state!r} is per process: use sqlite:///path/state.db "
            "(one host) or redis://host:port/db (any number of hosts)"
        )


def _app_for(settings: Settings) -> Starlette:
    transport = None
    if settings.upstream == "emulator":
        transport = emulator_transport()
        kind = "Vertex AI paths, tokens from its metadata server" if settings.vertex else "no key"
        log.info("serving on the built-in emulator (%s): no network", kind)
    return build_app(settings, upstream_transport=transport, auth_transport=transport)


def serve(args: argparse.Namespace) -> int:
    flags = _serve_flags(args)
    settings = load_settings(config_file=args.config, flags=flags)
    configure_logging(settings.log_level)
    check_workers(settings)
    check_state_schema(settings.state, prefix=settings.state_prefix, timeout=settings.state_timeout)
    _warn_unsafe(settings)
    for warning in unknown_variables(os.environ, KNOWN_VARIABLES):
        log.warning(warning)
    log.info("gateway starting", extra=startup_line.describe(settings))
    if settings.workers > 1:
        from gateway.workers import Supervisor, bind

        sockets = bind(settings.host, settings.port, settings.workers)
        log.info("listening on %s:%d", settings.host, settings.port)
        return Supervisor(settings.workers, run_worker, (args.config, flags), sockets).run()
    app = _app_for(settings)
    heap.keep_large_blocks()
    server(uvicorn.Config(app, **_uvicorn_options(settings)), app).run()
    return 0


def run_worker(config: str | None, flags: dict[str, Any], sock: socket.socket) -> None:
    """One of `serve --workers N`'s processes (spawned: settings are loaded again here)."""
    settings = load_settings(config_file=config, flags=flags)
    configure_logging(settings.log_level)
    app = _app_for(settings)
    heap.keep_large_blocks()
    server(uvicorn.Config(app, **_uvicorn_options(settings)), app).run(sockets=[sock])


def emulator_transport() -> httpx.ASGITransport:
    """The emulator in-process, recording nothing: the request log (every body, images and
    all, for tests to inspect) cannot be read through the gateway, and under load it held
    ~300 MB for good (measured: 300 requests with a 1 MB image, 41 MB -> 338 MB; 64 MB without)."""
    from gateway.emulator.app import build_emulator_app

    return httpx.ASGITransport(app=build_emulator_app(max_recorded=0))


class DrainingServer(uvicorn.Server):
    """uvicorn stops accepting on SIGTERM and waits `timeout_graceful_shutdown`, then cuts what
    is left. Telling the app when the drain began lets streams still running end in-band (an
    error event and [DONE]) a second before the cut, so clients know to retry."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.gateway_app = app

    @staticmethod
    def mismatch(config: uvicorn.Config) -> str | None:
        """Why this subclass must not run with the installed uvicorn; None when it fits."""
        hook = getattr(uvicorn.Server, "handle_exit", None)
        try:  # called as super().handle_exit(sig, frame): that call must fit
            inspect.signature(hook).bind(None, 15, None)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return "uvicorn.Server.handle_exit(sig, frame) is gone or changed"
        if not hasattr(config, "timeout_graceful_shutdown"):
            return "uvicorn.Config.timeout_graceful_shutdown is gone"
        return None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        services = getattr(self.gateway_app.state, "services", None)
        if services is not None:
            drain = float(self.config.timeout_graceful_shutdown or 0)
            services.drain.begin(max(drain - 1.0, 0.0))
        super().handle_exit(sig, frame)


def emulator(args: argparse.Namespace) -> int:
    from gateway.emulator.app import build_emulator_app

    configure_logging("info")
    uvicorn.run(build_emulator_app(), host=args.host, port=args.port, log_config=None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "healthcheck":
            return healthcheck.check(load_settings(config_file=args.config))
        return emulator(args)
    except ValueError as exc:
        print(f"gemini-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 2


if __name__ == "__main__":
    sys.exit(main())
