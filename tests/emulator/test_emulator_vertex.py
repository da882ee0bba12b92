"""The emulator's Vertex AI mode: Vertex paths with bearer tokens it issued (from its OAuth token
endpoint or its metadata server), express mode with a key, Vertex's own 400s and 404s, Vertex's
extra response fields, and signatures that only verify on the backend that minted them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.emulator.app import build_emulator_app

pytestmark = pytest.mark.anyio
BASE = "/v1beta1/projects/p-1/locations/global/publishers/google/models"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}


@pytest.fixture
async def emu() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = build_emulator_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
        yield client, app


async def metadata_token(client: httpx.AsyncClient) -> str:
    response = await client.get(
        "/computeMetadata/v1/instance/service-accounts/default/token",
        headers={"Metadata-Flavor": "Google"},
    )
    assert response.status_code == 200
    assert response.headers["metadata-flavor"] == "Google"
    token: str = response.json()["access_token"]
    return token


async def test_a_vertex_path_needs_a_token_the_emulator_issued(emu):
    client, app = emu
    url = f"{BASE}/gemini-2.5-flash:generateContent"
    missing = await client.post(url, json=HELLO)
    forged = await client.post(url, json=HELLO, headers={"Authorization": "Bearer ya29.made-up"})
    assert missing.status_code == forged.status_code == 401
    assert forged.json()["error"]["status"] == "UNAUTHENTICATED"
    token = await metadata_token(client)
    ok = await client.post(url, json=HELLO, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["createTime"] and body["usageMetadata"]["trafficType"] == "ON_DEMAND"
    assert app.state.emulator.requests[-1].backend == "vertex"
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["tokens"] == {"token_uri": 0, "metadata": 1}


async def test_the_metadata_server_wants_its_flavor_header(emu):
    client, _ = emu
    bare = await client.get("/computeMetadata/v1/project/project-id")
    assert bare.status_code == 403
    ping = await client.get("/", headers={"Metadata-Flavor": "Google"})
    assert ping.status_code == 200 and ping.headers["metadata-flavor"] == "Google"
    project = await client.get(
        "/computeMetadata/v1/project/project-id", headers={"Metadata-Flavor": "Google"}
    )
    assert project.text == "emulator-project"


async def test_the_token_endpoint_takes_a_signed_jwt_grant_only(emu):
    client, _ = emu
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    bad = await client.post("/token", data={"grant_type": grant, "assertion": "not-a-jwt"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"RS256","typ":"JWT"}
    good = await client.post(
        "/token", data={"grant_type": grant, "assertion": f"{header}.e30.c2ln"}
    )
    assert good.status_code == 200
    assert good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 3600


async def test_express_mode_paths_take_a_key(emu):
    client, _ = emu
    url = "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent"
    assert (await client.post(url, json=HELLO)).status_code == 401
    ok = await client.post(url, json=HELLO, headers={"x-goog-api-key": "k"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ([{"parts": [{"text": "hi"}]}], "Please use a valid role: user, model."),
        (
            [
                {"role": "user", "parts": [{"text": "weather?"}]},
                {
                    "role": "model",
                    "parts": [{"functionCall": {"id": "a", "name": "f", "args": {}}}],
                },
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
            ],
            'Invalid JSON payload received. Unknown name "id" at '
            "'contents[1].parts[0].function_call': Cannot find field.",
        ),
    ],
    ids=["no_role", "function_id"],
)
async def test_vertex_rejects_what_ai_studio_lets_through(emu, contents, message):
    client, _ = emu
    token = await metadata_token(client)
    response = await client.post(
        f"{BASE}/gemini-2.5-flash:generateContent",
        json={"contents": contents},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    ai_studio = await client.post(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        json={"contents": contents},
        headers={"x-goog-api-key": "k"},
    )
    assert ai_studio.status_code == 200, ai_studio.text


async def test_gemini_3_is_not_on_a_regional_location(emu):
    client, _ = emu
    token = await metadata_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    regional = "/v1beta1/projects/p/locations/us-central1/publishers/google/models"
    miss = await client.post(
        f"{regional}/gemini-3-pro-preview:generateContent", json=HELLO, headers=headers
    )
    assert miss.status_code == 404 and "Publisher Model" in miss.json()["error"]["message"]
    older = await client.post(
        f"{regional}/gemini-2.5-flash:generateContent", json=HELLO, headers=headers
    )
    assert older.status_code == 200


async def test_signatures_only_verify_on_the_backend_that_minted_them(emu):
    client, app = emu
    token = await metadata_token(client)
    prompt = {"role": "user", "parts": [{"text": "a red fox"}]}
    model = "gemini-3-pro-image-preview"
    studio = await client.post(
        f"/v1beta/models/{model}:generateContent",
        json={"contents": [prompt]},
        headers={"x-goog-api-key": "k"},
    )
    turn = {"role": "model", "parts": studio.json()["candidates"][0]["content"]["parts"]}
    replay = {"contents": [prompt, turn, {"role": "user", "parts": [{"text": "at night"}]}]}
    on_vertex = await client.post(
        f"{BASE}/{model}:generateContent", json=replay, headers={"Authorization": f"Bearer {token}"}
    )
    assert on_vertex.status_code == 400
    assert on_vertex.json()["error"]["message"] == "Corrupted thought signature."
    on_studio = await client.post(
        f"/v1beta/models/{model}:generateContent", json=replay, headers={"x-goog-api-key": "k"}
    )
    assert on_studio.status_code == 200
    assert set(app.state.emulator.requests[-1].verdicts) == {"ok"}
