"""GET /v1/models and /v1/models/{id}: bare ids translated from Gemini's list, errors kept."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio


async def test_models_list_has_bare_ids_and_only_generate_content_models(stack):
    client = stack.openai()
    models = [m async for m in client.models.list()]
    ids = {m.id for m in models}
    assert "gemini-3-pro-image-preview" in ids
    assert "gemini-2.5-flash" in ids
    assert not any(i.startswith("models/") for i in ids)
    assert all(m.owned_by == "google" for m in models)


async def test_model_get_and_unknown_model_is_404_envelope(stack):
    client = stack.openai()
    model = await client.models.retrieve("gemini-2.5-flash")
    assert model.id == "gemini-2.5-flash"
    async with stack.http() as http:
        response = await http.get("/v1/models/gemini-9-ultra")
    assert response.status_code == 404
    error = response.json()["error"]
    assert "gemini-9-ultra" in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


async def test_models_listing_uses_the_emulator_key_and_v1beta(stack):
    async with stack.http() as http:
        response = await http.get("/v1/models")
    assert response.status_code == 200
    request = stack.emulator.requests[-1]
    assert request.path.startswith("/v1beta/models")
    assert "key" not in request.query


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/models/a%0Ab", "openai"),
        ("/v1/models/a%0A:b", "openai"),
        ("/v1/models/a%0A/b", "openai"),
        ("/v1/models/a%20b", "openai"),
        ("/v1beta/models/a%0A:b", "google"),
        ("/v1beta/models/a%0A/b", "google"),
        ("/v1beta/models/a%0Ab", "google"),
    ],
)
async def test_an_id_no_model_can_have_is_refused_without_asking_gemini(stack, path, shape):
    """A newline stopped starlette's `path` parameter, so such a GET fell through to the POST
    route beside it (405), or went to Gemini and came back as a 502; the schemathesis contract
    test found it."""
    async with stack.http() as http:
        response = await http.get(path)
    assert response.status_code in (400, 404)
    error = response.json()["error"]
    if shape == "openai":
        assert set(error) == {"message", "type", "param", "code"}
    else:
        assert error["status"] in ("NOT_FOUND", "INVALID_ARGUMENT")
    assert stack.emulator.requests == []
