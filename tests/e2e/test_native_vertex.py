"""google-genai (AI Studio mode, pointed at the gateway) through the native routes while the
gateway calls Vertex AI: the emulator and the gateway on real loopback sockets, Vertex reached
in express mode (a key, no project). The SDK's calls map onto Vertex paths, model lists come
back in AI Studio's shape, and a three-edit chat keeps every signature byte-exact."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types
from PIL import Image

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import make_settings
from tests.e2e.fidelity_helpers import band_count
from tests.hardening.loopback import serve

pytestmark = pytest.mark.slow
KEY = "vertex-express-key"
EXPRESS = "/v1beta1/publishers/google/models/"


@pytest.fixture
def running() -> Iterator[tuple[genai.Client, object]]:
    emulator_app = build_emulator_app()
    with serve(emulator_app) as emulator_url:
        settings = make_settings(
            upstream="gemini",
            use_vertexai=True,
            vertex_base_url=emulator_url,
            api_keys=(KEY,),
            client_keys=("client-key",),
            max_retries=0,
        )
        with serve(build_app(settings)) as url:
            options = types.HttpOptions(base_url=url, api_version="v1beta")
            yield (
                genai.Client(api_key="client-key", http_options=options),
                emulator_app.state.emulator,
            )


def test_native_calls_reach_vertex_paths(running) -> None:
    client, emulator = running
    assert client.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="hi").total_tokens
    names = [m.name for m in client.models.list()]
    assert "models/gemini-3-pro-image-preview" in names
    paths = [r.path for r in emulator.requests]
    assert paths[:2] == [
        EXPRESS + "gemini-2.5-flash:generateContent",
        EXPRESS + "gemini-2.5-flash:countTokens",
    ]
    assert paths[2] == "/v1beta1/publishers/google/models"
    assert {r.headers.get("x-goog-api-key") for r in emulator.requests} == {KEY}


def test_a_native_chat_edits_an_image_three_times_on_vertex(running) -> None:
    client, emulator = running
    chat = client.chats.create(model="gemini-3-pro-image-preview")
    pngs = []
    for prompt in ("A cat on a sofa", "Make the sofa blue", "Add a hat"):
        reply = chat.send_message(prompt)
        parts = reply.candidates[0].content.parts if reply.candidates else None
        images = [p.inline_data.data for p in parts or [] if p.inline_data and p.inline_data.data]
        with Image.open(io.BytesIO(images[0])) as image:
            assert image.format == "PNG"
        pngs.append(images[0])
    assert [band_count(png) for png in pngs] == [0, 1, 2]
    assert [r.verdicts for r in emulator.requests] == [[], ["ok"] * 2, ["ok"] * 4]
    assert {r.backend for r in emulator.requests} == {"vertex"}
