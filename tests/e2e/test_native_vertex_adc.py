"""The native routes on Vertex AI with Application Default Credentials (the emulator's Vertex
mode, in-process): the gateway's own token goes upstream, never the client's key, and a body
Vertex would refuse (a content without a role) is fitted. Express mode: test_native_vertex.py."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio
VERTEX = "/v1beta1/projects/emulator-project/locations/global/publishers/google/models/"
CLIENT_KEY = "client-key-vertex"


async def test_native_calls_reach_vertex_with_the_gateways_token() -> None:
    async with emulator_stack(use_vertexai=True, client_keys=(CLIENT_KEY,)) as stack:
        async with stack.http() as http:
            body = {
                "contents": [{"parts": [{"text": "hello vertex"}]}]
            }  # no role: Vertex needs one
            headers = {"x-goog-api-key": CLIENT_KEY}
            unary = await http.post(
                "/v1beta/models/gemini-2.5-flash:generateContent", json=body, headers=headers
            )
            assert unary.status_code == 200, unary.text
            assert "Echo: hello vertex" in unary.text
            stream = await http.post(
                f"/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key={CLIENT_KEY}",
                json=body,
            )
            assert stream.status_code == 200, stream.text
            events = [
                orjson.loads(line[6:])
                for line in stream.text.split("\r\n")
                if line.startswith("data: ")
            ]
            assert events[-1]["candidates"][0]["finishReason"] == "STOP"
            refused = await http.post(
                "/v1beta/models/gemini-2.5-flash:generateContent",
                json=body,
                headers={"x-goog-api-key": "wrong"},
            )
            assert refused.status_code == 403
        first, second = stack.emulator.requests
        assert first.path == VERTEX + "gemini-2.5-flash:generateContent"
        assert second.path == VERTEX + "gemini-2.5-flash:streamGenerateContent"
        assert second.query == {"alt": "sse"}
        for request in (first, second):
            assert request.headers["authorization"].startswith("Bearer ya29.emulator-")
            assert "x-goog-api-key" not in request.headers
            assert CLIENT_KEY not in repr(request.headers)
            assert request.body["contents"][0]["role"] == "user"
