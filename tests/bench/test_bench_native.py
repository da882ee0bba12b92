"""The native routes on the bench's fake Gemini, in-process: what `python -m bench.native`
loads is relayed byte for byte (the unary answers and the SSE stream are the fake's own bytes),
and the request body the fake receives is the client's, byte for byte. No timing asserted."""

from __future__ import annotations

import httpx
import pytest

from bench.fake_upstream import FakeGemini
from bench.payloads import FakeConfig, scenarios
from tests.conftest import client_for, make_settings, running_app

pytestmark = pytest.mark.anyio
SMALL = FakeConfig(sse_events=5, image_bytes=30_000, image_sig_bytes=3_000)


async def test_native_answers_are_the_upstreams_bytes() -> None:
    fake = FakeGemini(SMALL)
    chosen = scenarios(images=2, image_bytes=20_000)
    settings = make_settings(upstream="gemini", api_keys=("bench-key",), base_url="http://fake")
    async with running_app(settings, httpx.ASGITransport(app=fake)) as app:
        async with client_for(app) as client:
            for name, expected in (
                ("text", fake.canned.unary_text),
                ("imgout", fake.canned.unary_image),
                ("stream", b"".join(fake.canned.sse_text)),
            ):
                scenario = chosen[name]
                fake.recording = True
                response = await client.post(
                    scenario.gemini_path,
                    content=scenario.gemini_body,
                    headers={"content-type": "application/json"},
                )
                assert response.status_code == 200, response.text
                assert response.content == expected, name
                assert fake.last_body == scenario.gemini_body, name
    assert fake.hits == 3
