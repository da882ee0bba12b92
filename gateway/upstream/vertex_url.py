"""Where a Vertex AI call goes: the one function that builds every Vertex URL (pure).

Forms (reference: google-genai's own choices, measured against a loopback fake):
- global:       https://aiplatform.googleapis.com/{v}/projects/{p}/locations/global/...
- multi-region: https://aiplatform.{us|eu}.rep.googleapis.com/{v}/projects/{p}/locations/{us|eu}/...
- regional:     https://{loc}-aiplatform.googleapis.com/{v}/projects/{p}/locations/{loc}/...
- express mode: https://aiplatform.googleapis.com/{v}/publishers/google/models/... (a key, no
  project, no location)
A base URL (GOOGLE_VERTEX_BASE_URL: private endpoints, tests) replaces the host, never the path.

Callers speak AI Studio's relative paths (`models/{m}:{method}`, `models`, `models/{m}`), so the
chat, images, Responses and native routes reach Vertex through `vertex_url` without knowing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

MULTI_REGIONS: Final = frozenset({"us", "eu"})
GLOBAL: Final = "global"


@dataclass(frozen=True, slots=True)
class VertexTarget:
    """Everything but the model and method: fixed for the life of the gateway."""

    project: str | None  # None: express mode
    location: str = GLOBAL
    api_version: str = "v1beta1"
    base_url: str = ""
    locations: Sequence[tuple[str, str]] = ()  # (model-name prefix, location), first match wins


def host_for(location: str, express: bool = False) -> str:
    if express or location == GLOBAL:
        return "https://aiplatform.googleapis.com"
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def location_for(target: VertexTarget, model: str) -> str:
    """The per-model override from the config file (`[vertex_locations]`), else the default."""
    return next((loc for prefix, loc in target.locations if model.startswith(prefix)), None) or (
        target.location
    )


def vertex_url(target: VertexTarget, path: str) -> str:
    """An AI-Studio-style relative path (`models/{m}:{method}[?query]`, `models`,
    `models/{m}`) as the Vertex URL for it. Model ids were checked by the caller. Listing and
    reading publisher models (no method) is not scoped to a project."""
    rest, _, query = path.partition("?")
    name = rest.removeprefix("models").lstrip("/")
    model = name.partition(":")[0]
    location = location_for(target, model) if model else target.location
    express = target.project is None
    base = (target.base_url or host_for(location, express)).rstrip("/")
    method = ":" in name
    scope = f"projects/{target.project}/locations/{location}/" if method and not express else ""
    url = f"{base}/{target.api_version}/{scope}publishers/google/models"
    if name:
        url += f"/{name}"
    return f"{url}?{query}" if query else url


def is_regional(location: str) -> bool:
    """Regional hosts do not serve Gemini 3 previews (they answer 404); global, us, eu do."""
    return location != GLOBAL and location not in MULTI_REGIONS
