"""Every surface on Vertex AI, through the real OpenAI SDK against the gateway and the
emulator's Vertex mode: the Vertex paths, a bearer token from the metadata server, bodies
Vertex accepts, and the errors a Vertex deployment can hit (a Gemini 3 model on a region)."""

from __future__ import annotations

import base64

import openai
import pytest

from tests.conftest import emulator_stack
from tests.validators import validate_gemini_request, validate_openai_completion

pytestmark = pytest.mark.anyio
MODEL = "gemini-3-pro-image-preview"
VERTEX = "/v1beta1/projects/emulator-project/locations/global/publishers/google/models/"


async def test_chat_unary_and_stream_reach_the_vertex_paths_with_a_bearer_token():
    async with emulator_stack(use_vertexai=True) as stack:
        client = stack.openai()
        reply = await client.chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": "hello"}]
        )
        validate_openai_completion(reply.model_dump())
        stream = await client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=[{"role": "user", "content": "hello"}],
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == reply.choices[0].message.content
        first, second = stack.emulator.requests
        assert first.path == VERTEX + "gemini-2.5-flash:generateContent"
        assert second.path == VERTEX + "gemini-2.5-flash:streamGenerateContent"
        assert second.query == {"alt": "sse"}
        for request in (first, second):
            assert request.headers["authorization"].startswith("Bearer ya29.emulator-")
            assert "x-goog-api-key" not in request.headers
            validate_gemini_request(request.body)
        assert stack.emulator_app.state.vertex_tokens.fetches == {"token_uri": 0, "metadata": 1}


async def test_express_mode_sends_the_key_and_no_token():
    async with emulator_stack(use_vertexai=True, api_keys=("vertex-express-key",)) as stack:
        await stack.openai().chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": "hello"}]
        )
        (request,) = stack.emulator.requests
        assert request.path == (
            "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent"
        )
        assert request.headers["x-goog-api-key"] == "vertex-express-key"
        assert "authorization" not in request.headers
        assert stack.emulator_app.state.vertex_tokens.fetches == {"token_uri": 0, "metadata": 0}


async def test_a_gemini_3_model_on_a_region_gets_an_error_naming_global():
    async with emulator_stack(use_vertexai=True, vertex_location="us-central1") as stack:
        with pytest.raises(openai.NotFoundError) as caught:
            await stack.openai().chat.completions.create(
                model="gemini-3-pro-preview", messages=[{"role": "user", "content": "hi"}]
            )
        assert "'global'" in caught.value.message and "us-central1" in caught.value.message
        assert "/locations/us-central1/" in stack.emulator.requests[-1].path


async def test_a_per_model_location_override_sends_that_model_elsewhere():
    async with emulator_stack(
        use_vertexai=True,
        vertex_location="us-central1",
        vertex_locations=(("gemini-3", "global"),),
    ) as stack:
        await stack.openai().chat.completions.create(
            model="gemini-3-pro-preview", messages=[{"role": "user", "content": "hi"}]
        )
        assert "/locations/global/" in stack.emulator.requests[-1].path


async def test_the_images_api_works_on_vertex():
    async with emulator_stack(use_vertexai=True) as stack:
        result = await stack.openai().images.generate(model=MODEL, prompt="a red fox")
        assert result.data and base64.b64decode(result.data[0].b64_json or "")
        assert stack.emulator.requests[-1].path == VERTEX + MODEL + ":generateContent"


async def test_labels_go_to_vertex_only():
    extra = {"extra_body": {"google": {"labels": {"team": "imaging"}}}}
    messages = [{"role": "user", "content": "hello"}]
    async with emulator_stack(use_vertexai=True) as stack:
        await stack.openai().chat.completions.create(
            model="gemini-2.5-flash", messages=messages, **extra
        )
        assert stack.emulator.requests[-1].body["labels"] == {"team": "imaging"}
    async with emulator_stack() as stack:
        await stack.openai().chat.completions.create(
            model="gemini-2.5-flash", messages=messages, **extra
        )
        assert "labels" not in stack.emulator.requests[-1].body


async def test_the_model_list_and_a_model_read_work_on_vertex():
    async with emulator_stack(use_vertexai=True) as stack:
        client = stack.openai()
        listed = [m.id async for m in client.models.list()]
        assert "gemini-3-pro-image-preview" in listed
        model = await client.models.retrieve("gemini-2.5-flash")
        assert model.id == "gemini-2.5-flash"
        paths = [r.path for r in stack.emulator.requests]
        assert paths == [
            "/v1beta1/publishers/google/models",
            "/v1beta1/publishers/google/models/gemini-2.5-flash",
        ]
        assert all(
            r.headers["authorization"].startswith("Bearer ") for r in stack.emulator.requests
        )


async def test_embedding_errors_on_vertex_keep_vertexs_status_and_message():
    """Embeddings work on Vertex (tests/e2e/test_embeddings_vertex.py); its errors pass as they
    are, like every other call's."""
    async with emulator_stack(use_vertexai=True) as stack:
        with pytest.raises(openai.NotFoundError) as caught:
            await stack.openai().embeddings.create(model="gemini-embedding-404", input="hi")
        assert "gemini-embedding-404" in caught.value.message
