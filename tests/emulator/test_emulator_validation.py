"""Request checks, auth, the model catalogue and countTokens — all with Gemini's error envelope."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio

FLASH = "gemini-2.5-flash"


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


async def test_missing_key_is_403(emu: Any) -> None:
    response = await emu.client.post(
        f"/v1beta/models/{FLASH}:generateContent",
        json={"contents": [user("x")]},
        headers={"x-goog-api-key": ""},
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["status"] == "PERMISSION_DENIED"
    assert error["message"].startswith("Method doesn't allow unregistered callers")


async def test_invalid_key_is_400_and_not_echoed(emu: Any) -> None:
    response = await emu.generate(
        FLASH, {"contents": [user("x")]}, headers={"x-goog-api-key": "invalid-key"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert "invalid-key" not in response.text


async def test_query_key_works_and_is_recorded(emu: Any) -> None:
    response = await emu.generate(
        FLASH, {"contents": [user("x")]}, params={"key": "abc"}, headers={"x-goog-api-key": ""}
    )
    assert response.status_code == 200
    assert emu.state.requests[-1].query["key"] == "abc"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"contents": [user("x")], "generationconfig": {}},
            'Invalid JSON payload received. Unknown name "generationconfig": Cannot find field.',
        ),
        (
            {"contents": [user("x")], "generationConfig": {"max_tokens": 3}},
            "Invalid JSON payload received. Unknown name \"max_tokens\" at 'generation_config': Cannot find field.",
        ),
        (
            {"contents": [{"role": "user", "parts": [{"text": "x", "image_url": "u"}]}]},
            "Invalid JSON payload received. Unknown name \"image_url\" at 'contents[0].parts[0]': Cannot find field.",
        ),
        (
            {"contents": [user("x")], "generationConfig": {"thinkingConfig": {"effort": "low"}}},
            "Unknown name \"effort\" at 'generation_config.thinking_config'",
        ),
        (
            {
                "contents": [user("x")],
                "tools": [{"function_declarations": [{"name": "f", "strict": True}]}],
            },
            'Unknown name "strict"',
        ),
        ({}, "* GenerateContentRequest.contents: contents is not specified"),
        ({"contents": []}, "* GenerateContentRequest.contents: contents is not specified"),
        (
            {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]},
            "Please use a valid role: user, model.",
        ),
        ({"contents": [{"role": "user", "parts": []}]}, "contents.parts must not be empty"),
        (
            {"contents": [{"role": "user", "parts": [{"thought": True}]}]},
            "required oneof field 'data'",
        ),
        (
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [
                            {"text": "x", "inlineData": {"mimeType": "image/png", "data": "AAAA"}}
                        ],
                    }
                ]
            },
            "oneof field 'data' is already set",
        ),
        (
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [{"inlineData": {"mimeType": "image/png", "data": "@@@@"}}],
                    }
                ]
            },
            "Base64 decoding failed",
        ),
        (
            {
                "contents": [user("x")],
                "generationConfig": {
                    "thinkingConfig": {"thinkingBudget": 100, "thinkingLevel": "low"}
                },
            },
            "You can only set only one of thinking budget and thinking level.",
        ),
        (
            {
                "contents": [user("x")],
                "generationConfig": {"thinkingConfig": {"thinkingLevel": "EXTREME"}},
            },
            "thinking_level",
        ),
        (
            {"contents": [user("x")], "tools": [{"functionDeclarations": [{"name": "bad name"}]}]},
            "Invalid function name.",
        ),
        (
            {
                "contents": [user("x")],
                "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}},
            },
            "function_calling_config.mode",
        ),
    ],
    ids=lambda v: None if isinstance(v, dict) else v[:40],
)
async def test_bad_requests_are_400(emu: Any, body: dict[str, Any], message: str) -> None:
    response = await emu.generate(FLASH, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]


async def test_unknown_field_message_is_exact(emu: Any) -> None:
    message = await emu.error(FLASH, {"contents": [user("x")], "extra_body": {}})
    assert message == 'Invalid JSON payload received. Unknown name "extra_body": Cannot find field.'


async def test_invalid_json_body(emu: Any) -> None:
    response = await emu.client.post(f"/v1beta/models/{FLASH}:generateContent", content=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid JSON payload received. Unexpected token."


async def test_url_safe_unpadded_base64_is_accepted(emu: Any) -> None:
    part = {"inline_data": {"mime_type": "image/png", "data": "-_-_AA"}}
    await emu.ok(FLASH, {"contents": [{"role": "user", "parts": [{"text": "see"}, part]}]})


async def test_minimal_thinking_level_refused_on_pro(emu: Any) -> None:
    body = {
        "contents": [user("x")],
        "generationConfig": {"thinkingConfig": {"thinkingLevel": "minimal"}},
    }
    message = await emu.error("gemini-3.1-pro-preview", body)
    assert (
        message
        == "Thinking level MINIMAL is not supported for this model. Please retry with other thinking level."
    )
    await emu.ok("gemini-3-flash-preview", body)


async def test_models_list_and_get(emu: Any) -> None:
    response = await emu.client.get("/v1beta/models")
    ids = [m["name"] for m in response.json()["models"]]
    for model in (
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash-image",
        "gemini-3-pro-preview",
        "gemini-3-flash-preview",
        "gemini-3.1-pro-preview",
        "gemini-3-pro-image-preview",
        "gemini-3.1-flash-image-preview",
    ):
        assert f"models/{model}" in ids
    model = (await emu.client.get("/v1beta/models/gemini-3.1-pro-preview")).json()
    assert set(model) == {
        "name",
        "version",
        "displayName",
        "description",
        "inputTokenLimit",
        "outputTokenLimit",
        "supportedGenerationMethods",
        "temperature",
        "topP",
        "topK",
        "maxTemperature",
        "thinking",
    }
    image = (await emu.client.get("/v1/models/gemini-3-pro-image-preview")).json()
    assert (image["inputTokenLimit"], image["outputTokenLimit"]) == (65536, 32768)
    assert emu.state.requests[-1].method == "models.get"


async def test_unknown_model_is_404_like_sample_15(emu: Any) -> None:
    response = await emu.client.post(
        "/v1/models/gemini-5.0-flash:generateContent", json={"contents": [user("x")]}
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["status"] == "NOT_FOUND"
    assert error["message"] == (
        "models/gemini-5.0-flash is not found for API version v1, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods."
    )
    assert (await emu.client.get("/v1beta/models/nope")).status_code == 404


async def test_unknown_paths_and_methods_are_404(emu: Any) -> None:
    assert (
        await emu.client.post("/v1beta/models/gemini-2.5-flash:embedContent", json={})
    ).status_code == 404
    assert (
        await emu.client.get("/v1beta/models/gemini-2.5-flash:generateContent")
    ).status_code == 404
    assert (await emu.client.get("/elsewhere")).status_code == 404


async def test_count_tokens(emu: Any) -> None:
    url = "/v1beta/models/gemini-2.5-flash:countTokens"
    image = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    contents = [{"role": "user", "parts": [{"text": "x" * 9}, image]}]
    response = await emu.client.post(url, json={"contents": contents})
    assert response.json() == {
        "totalTokens": 3 + 258,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 3},
            {"modality": "IMAGE", "tokenCount": 258},
        ],
    }
    wrapped = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": contents,
            "systemInstruction": {"parts": [{"text": "abcd"}]},
        }
    }
    assert (await emu.client.post(url, json=wrapped)).json()["totalTokens"] == 4 + 258
    both = {"contents": contents, **wrapped}
    assert (await emu.client.post(url, json=both)).status_code == 400
    assert (await emu.client.post(url, json={})).status_code == 400
    assert emu.state.requests[-1].method == "countTokens"
