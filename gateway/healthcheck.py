"""`gemini-gateway healthcheck`: the container HEALTHCHECK, asking the gateway's own /healthz.

It reads the port the way `serve` does (config file, GATEWAY_PORT), talks to the loopback address
whatever the bind address is (0.0.0.0 and :: listen there too), and never goes through a proxy:
an `http_proxy` in the container's environment must not make a healthy gateway look dead."""

from __future__ import annotations

import urllib.error
import urllib.request

from gateway.config import Settings

TIMEOUT_SECONDS = 3.0
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def health_url(settings: Settings) -> str:
    host = settings.host
    if host in WILDCARDS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/healthz"


def check(settings: Settings) -> int:
    """0 when /healthz answers 200, 1 otherwise (Docker's convention), with one line why."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = health_url(settings)
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}")  # noqa: T201
        return 1
    print(f"{'healthy' if status == 200 else 'unhealthy'}: {url} answered {status}")  # noqa: T201
    return 0 if status == 200 else 1
