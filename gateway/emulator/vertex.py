"""The emulator's Vertex AI mode: Vertex paths, OAuth bearer tokens, Vertex's stricter body
rules, and the two places Google auth gets tokens from (an OAuth token endpoint and a
metadata server), so the gateway's whole Vertex path runs offline.

- `/{v}/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` needs
  `Authorization: Bearer <token>` with a token this emulator issued;
  `/{v}/publishers/google/models/{m}:{method}` (express mode) needs an API key.
- 400 for a content without `role` and for `id` inside functionCall / functionResponse, with
  Vertex's wording; 404 for a Gemini 3 model on a regional location (it lives on `global`).
- Signatures are minted with a secret of their own: an AI Studio signature sent here (or the
  reverse) fails verification with "Corrupted thought signature", as on Google.
- `POST /token` (a service account's `token_uri`: JWT bearer grant, or a refresh token) and
  `/computeMetadata/v1/...` (needs `Metadata-Flavor: Google`) hand out tokens, counted in
  `/_emulator/stats` under `tokens`.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.emulator.errors import GeminiError, invalid_argument
from gateway.emulator.fields import field as get_field
from gateway.emulator.fields import objects

VERTEX_SECRET_SUFFIX: Final = b"/vertex-ai"
EMULATOR_PROJECT: Final = "emulator-project"
TOKEN_LIFETIME: Final = 3600
CREATE_TIME: Final = "2026-01-01T00:00:00.000000Z"
_PATH: Final = re.compile(
    r"^/(?P<version>v\d+[a-z0-9]*)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    r"publishers/google/models(?:/(?P<model>[^:/]+)(?::(?P<method>[A-Za-z]+))?)?/?$"
)
_FLAVOR: Final = {"metadata-flavor": "Google"}
# "default" or the account's email (google-auth asks by email once it knows it)
_ACCOUNT: Final = re.compile(
    r"^/computeMetadata/v1/instance/service-accounts/[^/]+(?P<token>/token)?$"
)
_FUNCTION_KEYS: Final = (
    ("functionCall", "function_call"),
    ("functionResponse", "function_response"),
)


@dataclass(frozen=True, slots=True)
class VertexCall:
    version: str
    project: str | None
    location: str | None
    model: str | None
    method: str | None


def match_vertex(path: str) -> VertexCall | None:
    match = _PATH.match(path)
    if match is None:
        return None
    return VertexCall(
        match["version"], match["project"], match["location"], match["model"], match["method"]
    )


@dataclass
class TokenBook:
    """Tokens handed out, and how many times each source was asked."""

    issued: set[str] = field(default_factory=set)
    fetches: dict[str, int] = field(default_factory=lambda: {"token_uri": 0, "metadata": 0})

    def issue(self, source: str) -> str:
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        self.issued.add(token)
        self.fetches[source] += 1
        return token


def authenticate(call: VertexCall, headers: dict[str, str], book: TokenBook) -> None:
    """A token this emulator issued; without a project in the path (express mode, publisher
    model lists) an API key does too."""
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if call.project is None and not token:
        if not headers.get("x-goog-api-key"):
            raise GeminiError(401, "API keys are required for express mode requests.")
        return
    if token not in book.issued:
        raise GeminiError(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
        )


def check_location(call: VertexCall) -> None:
    """Gemini 3 previews are served on `global` (and the us/eu multi-regions) only."""
    model = call.model or ""
    location = call.location
    if model.startswith("gemini-3") and location not in (None, "global", "us", "eu"):
        raise GeminiError(
            404,
            f"Publisher Model `projects/{call.project}/locations/{location}/publishers/google/"
            f"models/{model}` was not found or your project does not have access to it. Please "
            "ensure you are using a valid model version.",
        )


def check_vertex_body(body: object) -> object:
    """Vertex's own rejections; returns the body without `labels` (accepted, then unused)."""
    if not isinstance(body, dict):
        return body
    for i, content in enumerate(objects(body, "contents")):
        if not content.get("role"):
            raise invalid_argument("Please use a valid role: user, model.", f"contents[{i}].role")
        for j, part in enumerate(objects(content, "parts")):
            for camel, snake in _FUNCTION_KEYS:
                value = get_field(part, camel)
                if isinstance(value, dict) and "id" in value:
                    raise invalid_argument(
                        f'Invalid JSON payload received. Unknown name "id" at '
                        f"'contents[{i}].parts[{j}].{snake}': Cannot find field.",
                        f"contents[{i}].parts[{j}].{snake}",
                    )
    return {k: v for k, v in body.items() if k != "labels"}


def add_vertex_fields(chunk: dict[str, Any]) -> dict[str, Any]:
    """What Vertex answers carry beyond AI Studio's: createTime, usageMetadata.trafficType."""
    chunk["createTime"] = CREATE_TIME
    usage = chunk.get("usageMetadata")
    if isinstance(usage, dict):
        usage["trafficType"] = "ON_DEMAND"
    return chunk


def vertex_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """A PublisherModel: named `publishers/google/models/{id}`."""
    name = str(resource.get("name", "")).removeprefix("models/")
    return {**resource, "name": f"publishers/google/models/{name}"}


def _token_json(token: str) -> Response:
    body = {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}
    return Response(orjson.dumps(body), media_type="application/json")


def _oauth_error(message: str) -> Response:
    body = {"error": "invalid_grant", "error_description": message}
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")


def _looks_like_jwt(assertion: str) -> bool:
    pieces = assertion.split(".")
    if len(pieces) != 3:
        return False
    try:
        header = orjson.loads(base64.urlsafe_b64decode(pieces[0] + "=" * (-len(pieces[0]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return False
    return isinstance(header, dict) and header.get("alg") == "RS256"


async def token_endpoint(request: Request) -> Response:
    """OAuth 2 token endpoint: a service account's signed JWT, or a user's refresh token."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    grant = (form.get("grant_type") or [""])[0]
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        if not _looks_like_jwt((form.get("assertion") or [""])[0]):
            return _oauth_error("Invalid JWT: the assertion is not a signed RS256 JWT.")
    elif grant != "refresh_token" or not form.get("refresh_token"):
        return _oauth_error(f"Unsupported grant type: {grant!r}.")
    book: TokenBook = request.app.state.vertex_tokens
    return _token_json(book.issue("token_uri"))


async def metadata(request: Request) -> Response:
    """The bits of the GCE metadata server google-auth reads."""
    if request.headers.get("metadata-flavor") != "Google":
        return PlainTextResponse("Missing Metadata-Flavor: Google header", status_code=403)
    path = request.url.path.rstrip("/")
    book: TokenBook = request.app.state.vertex_tokens
    if path in ("", "/computeMetadata/v1"):
        return PlainTextResponse("computeMetadata/", headers=_FLAVOR)
    if path == "/computeMetadata/v1/project/project-id":
        return PlainTextResponse(EMULATOR_PROJECT, headers=_FLAVOR)
    account = _ACCOUNT.match(path)
    if account is not None and account["token"] is None:
        info = {
            "email": f"gateway@{EMULATOR_PROJECT}.iam.gserviceaccount.com",
            "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "aliases": ["default"],
        }
        return Response(orjson.dumps(info), media_type="application/json", headers=_FLAVOR)
    if account is not None:
        response = _token_json(book.issue("metadata"))
        response.headers.update(_FLAVOR)
        return response
    return PlainTextResponse("not found", status_code=404, headers=_FLAVOR)
