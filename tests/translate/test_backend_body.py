"""Bodies fitted to their backend: Vertex gets a role on every content and no function ids;
AI Studio never gets Vertex-only fields. Unchanged bodies are the same object, and image
payloads are shared, never copied (the body writer finds them by identity)."""

from __future__ import annotations

from typing import Any

from gateway.translate.backend_body import for_backend
from tests.validators import validate_gemini_request

PAYLOAD = "iVBORw0KGgoAAAA" + "AAAA" * 30


def tool_history() -> dict[str, Any]:
    return {
        "contents": [
            {"parts": [{"text": "weather in Paris?"}]},
            {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"id": "fc-1", "name": "get_weather", "args": {"c": 1}},
                        "thoughtSignature": "c2ln",
                    }
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "fc-1", "name": "get_weather", "response": {}}},
                    {"inlineData": {"mimeType": "image/png", "data": PAYLOAD}},
                ],
            },
        ],
        "labels": {"team": "a"},
    }


def test_vertex_gets_roles_and_no_function_ids():
    body = tool_history()
    fitted, notes = for_backend(body, vertex=True)
    assert notes == ("body_adapted:function_id", "body_adapted:role")
    assert [c["role"] for c in fitted["contents"]] == ["user", "model", "user"]
    call = fitted["contents"][1]["parts"][0]
    assert call == {
        "functionCall": {"name": "get_weather", "args": {"c": 1}},
        "thoughtSignature": "c2ln",
    }
    assert fitted["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {},
    }
    assert fitted["labels"] == {"team": "a"}
    # the input is untouched; the image payload is the same object
    assert body["contents"][1]["parts"][0]["functionCall"]["id"] == "fc-1"
    assert fitted["contents"][2]["parts"][1]["inlineData"]["data"] is PAYLOAD
    validate_gemini_request({k: v for k, v in fitted.items() if k != "labels"})


def test_a_body_vertex_accepts_already_is_returned_as_is():
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    fitted, notes = for_backend(body, vertex=True)
    assert fitted is body and notes == ()


def test_ai_studio_never_gets_labels_or_vertex_image_options():
    body = {
        "contents": [{"role": "user", "parts": [{"text": "a fox"}]}],
        "labels": {"team": "a"},
        "generationConfig": {
            "imageConfig": {"aspectRatio": "1:1", "personGeneration": "ALLOW_ADULT"}
        },
    }
    fitted, notes = for_backend(body, vertex=False)
    assert "labels" not in fitted
    assert fitted["generationConfig"] == {"imageConfig": {"aspectRatio": "1:1"}}
    assert notes == ("body_adapted:labels", "body_adapted:image_config")
    assert body["labels"] == {"team": "a"}


def test_ai_studio_keeps_function_ids_and_missing_roles():
    body = tool_history()
    del body["labels"]
    fitted, notes = for_backend(body, vertex=False)
    assert fitted is body and notes == ()
