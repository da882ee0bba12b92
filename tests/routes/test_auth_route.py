"""Auth per the contract: pass-through, server keys, and GATEWAY_API_KEYS for clients."""

from __future__ import annotations

import pytest

from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio

BODY = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}


async def test_pass_through_forwards_the_client_bearer_as_goog_api_key():
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(
            "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer my-gemini-key"}
        )
        assert response.status_code == 200
        sent = stack.emulator.requests[-1]
        assert sent.headers["x-goog-api-key"] == "my-gemini-key"
        assert "key" not in sent.query


async def test_server_key_wins_over_the_client_bearer():
    async with emulator_stack(api_keys=("server-key",)) as stack, stack.http() as http:
        response = await http.post(
            "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer other"}
        )
        assert response.status_code == 200
        assert stack.emulator.requests[-1].headers["x-goog-api-key"] == "server-key"


async def test_client_keys_are_required_when_configured():
    async with emulator_stack(client_keys=("sk-good",), api_keys=("server-key",)) as stack:
        async with stack.http() as http:
            refused = await http.post(
                "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer sk-bad"}
            )
            missing = await http.post("/v1/chat/completions", json=BODY)
            allowed = await http.post(
                "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer sk-good"}
            )
            health = await http.get("/healthz")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        assert "sk-bad" not in refused.text
        assert missing.status_code == 401
        assert allowed.status_code == 200
        assert health.status_code == 200
        assert stack.emulator.requests[-1].headers["x-goog-api-key"] == "server-key"
        assert len(stack.emulator.requests) == 1


async def test_no_key_at_all_against_real_gemini_is_a_401_without_upstream_call():
    async with emulator_stack(upstream="gemini") as stack, stack.http() as http:
        response = await http.post("/v1/chat/completions", json=BODY)
        assert response.status_code == 401
        assert "GEMINI_API_KEY" in response.json()["error"]["message"]
        assert stack.emulator.requests == []


async def test_invalid_gemini_key_becomes_401(stack):
    async with stack.http() as http:
        response = await http.post(
            "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer invalid-key"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "invalid-key" not in response.text
