"""`x-gateway-fidelity`: which signature fallbacks a request needed, told to the client.

Operators see fallbacks in /metrics and the log; a client (the playground, a script) sees them
here, per request, so "was my last turn replayed byte-exact?" has an answer where it is asked.
Absent when every signature was restored; e.g. `image=1, text=1` when one image part and one
text part got the documented dummy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

HEADER = "x-gateway-fidelity"
PREFIX = "signature_fallback:"


def fidelity_headers(notes: Iterable[str]) -> dict[str, str]:
    kinds = Counter(n.removeprefix(PREFIX) for n in notes if n.startswith(PREFIX))
    if not kinds:
        return {}
    return {HEADER: ", ".join(f"{kind}={count}" for kind, count in sorted(kinds.items()))}
