"""What a valid configuration is: ranges, choices and paths, checked once at start-up.

A mistyped value must stop the gateway with one line that names the variable, never run with a
silent default (`GATEWAY_FILES_REQUIRE_AUTH=ture` serving files without a key, a negative timeout,
an SQLite file nobody can create). Rules are kept here, apart from how values are read
(config.py), so a new option gets its rule in one table."""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS: Final = frozenset({"0", "false", "no", "off"})
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
STATE_FORMS: Final = (
    "memory, sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "redis://host:port/db or rediss://..."
)

# Numbers that must be above zero; every other number must not be negative.
POSITIVE: Final = frozenset(
    {
        "connect_timeout",
        "ready_timeout",
        "read_timeout",
        "total_timeout",
        "keepalive_interval",
        "max_connections",
        "max_body_bytes",
        "max_concurrent_large",
        "stream_content_piece",
        "fetch_max_bytes",
        "fetch_timeout",
        "state_max_bytes",
        "state_max_age",
    }
)


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(
        f"expected one of {', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}"
    )


def suggest(unknown: str, known: Iterable[str]) -> str:
    """`; did you mean 'read_timeout'?` for a near miss, else nothing."""
    close = difflib.get_close_matches(unknown, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Variables an orchestrator sets on its own for a service named "gateway" (Kubernetes:
# GATEWAY_SERVICE_HOST, GATEWAY_PORT_8080_TCP_ADDR, ...): not typos, so not warned about.
_ORCHESTRATOR_VAR: Final = re.compile(r"GATEWAY_(SERVICE_[A-Z0-9_]+|PORT_\d+_[A-Z0-9_]+)")


def unknown_variables(environ: Mapping[str, str], known: Iterable[str]) -> list[str]:
    """One warning per `GATEWAY_*` variable the gateway does not read: a typo
    (`GATEWAY_LOG_LEVL=debug`) would otherwise be ignored without a word. A warning, not an
    error: other software may share the prefix."""
    names = set(known)
    return [
        f"{var} is not a gateway setting and is ignored{suggest(var, names)}"
        for var in sorted(environ)
        if var.startswith("GATEWAY_") and var not in names and not _ORCHESTRATOR_VAR.fullmatch(var)
    ]


def check_numbers(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    for field, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        label = f"{names[field]} ({field})" if field in names else field
        if not math.isfinite(value):  # inf: a readiness result cached for good; nan: no retry
            raise ValueError(f"{label} must be a finite number, got {value}")
        if field == "port":
            if not 1 <= value <= 65535:
                raise ValueError(f"{label} must be a port number from 1 to 65535, got {value}")
        elif field in POSITIVE and not value > 0:
            least = "at least 1" if isinstance(value, int) else "greater than 0"
            raise ValueError(f"{label} must be {least}, got {value}")
        elif value < 0:
            raise ValueError(f"{label} must not be negative, got {value}")


def check_choice(label: str, value: str, choices: Iterable[str]) -> None:
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{label} must be one of {', '.join(options)}, got {value!r}")


def check_state_url(label: str, url: str) -> None:
    """The scheme is known, and an SQLite file can be created where the URL says.

    Three slashes are relative to the working directory, four are absolute (SQLAlchemy's
    convention): the message gives the resolved path, since that is what surprises people."""
    if url == "memory" or url.startswith(("redis://", "rediss://", "unix://")):
        return
    if not url.startswith("sqlite:///"):
        raise ValueError(f"{label}={url!r} is not a state URL: use {STATE_FORMS}")
    path = url[len("sqlite:///") :]
    if not path:
        raise ValueError(f"{label}={url!r} has no file path: use {STATE_FORMS}")
    if path == ":memory:":
        return
    folder = Path(path).absolute().parent
    if not folder.is_dir():
        raise ValueError(
            f"{label}={url!r}: the folder {folder} does not exist (three slashes are relative "
            "to the working directory, four are absolute)"
        )
    target = Path(path).absolute()
    writable = os.access(target if target.exists() else folder, os.W_OK)
    if not writable:
        raise ValueError(
            f"{label}={url!r}: {target} cannot be written by this user (is the folder "
            "read-only or owned by someone else? In the Docker image use sqlite:////data/state.db)"
        )
