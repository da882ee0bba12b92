"""The seed article's raw REST examples, as written, against the gateway's native route:

1. its `NanoBananaChat` class (requests, header `x-goog-api-key`, the model's parts appended back
   to `contents` as received), three turns;
2. its two curl rounds, with the key as `?key=` this time: round 2 sends the round-1 image the way
   the article writes it, `inline_data` / `mime_type` in snake_case and the signature as a part of
   its own (`{"thought_signature": ...}`). Gemini would refuse that part (a part without data);
   the gateway attaches it to the image part before it (and says so in `x-gateway-repairs`).

    ./scripts/serve &
    GATEWAY_URL=http://127.0.0.1:8080 python examples/native_rest.py out/

`GEMINI_API_KEY` is sent as the key (default `anything`: a gateway client key, or your Gemini key
when the gateway has none).
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:8080"
MODEL = "gemini-3-pro-image-preview"
TIMEOUT = 600


class NanoBananaChat:
    """A minimalist chat client that manually maintains contents + signature (the seed's)."""

    def __init__(self, api_base: str, headers: dict[str, str]) -> None:
        self.api_base = api_base
        self.headers = headers
        self.contents: list[dict[str, Any]] = []

    def send(self, text: str, attach_image_b64: str | None = None) -> list[dict[str, Any]]:
        # Construct the user message for this turn
        user_parts: list[dict[str, Any]] = [{"text": text}]
        if attach_image_b64:
            user_parts.append({"inline_data": {"mime_type": "image/png", "data": attach_image_b64}})
        self.contents.append({"role": "user", "parts": user_parts})
        # Send the request
        resp = requests.post(
            f"{self.api_base}/models/{MODEL}:generateContent",
            headers=self.headers,
            json={
                "contents": self.contents,
                "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
            },
            timeout=TIMEOUT,
        ).json()
        # Append the model response (including signature) back to contents as-is
        model_parts: list[dict[str, Any]] = resp["candidates"][0]["content"]["parts"]
        self.contents.append({"role": "model", "parts": model_parts})
        return model_parts


def image_of(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The (first) image part of a model answer."""
    return next(p for p in parts if "inlineData" in p or "inline_data" in p)


def save(part: dict[str, Any], path: Path) -> Path:
    blob = part.get("inlineData") or part["inline_data"]
    path.write_bytes(base64.b64decode(blob["data"]))
    return path


def chat_rounds(gateway: str, api_key: str, out_dir: Path) -> list[Path]:
    """The article's `NanoBananaChat` usage example, unchanged but for the base URL."""
    api_base = f"{gateway}/v1beta"
    headers = {"x-goog-api-key": api_key, "Content-Type": "application/json"}
    chat = NanoBananaChat(api_base, headers)
    parts1 = chat.send("Generate a golden retriever running on the beach")
    parts2 = chat.send("Change the scene to sunset")  # Automatically carries history and signature
    parts3 = chat.send("Add a flying seagull")
    return [
        save(image_of(parts), out_dir / f"native-chat-turn-{turn}.png")
        for turn, parts in enumerate((parts1, parts2, parts3), start=1)
    ]


def curl_rounds(gateway: str, api_key: str, out_dir: Path) -> tuple[list[Path], str]:
    """The article's two curl rounds (key in the query); returns the round-2 repairs header."""
    url = f"{gateway}/v1beta/models/{MODEL}:generateContent?key={api_key}"
    first_prompt = "Generate a golden retriever running on the beach"
    round1 = requests.post(
        url,
        headers={"Content-Type": "application/json"},
        json={
            "contents": [{"role": "user", "parts": [{"text": first_prompt}]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
        },
        timeout=TIMEOUT,
    )
    round1.raise_for_status()
    image = image_of(round1.json()["candidates"][0]["content"]["parts"])
    round2 = requests.post(
        url,
        headers={"Content-Type": "application/json"},
        json={
            "contents": [
                {"role": "user", "parts": [{"text": first_prompt}]},
                {
                    "role": "model",
                    "parts": [
                        {
                            "inline_data": {
                                "mime_type": "image/png",
                                "data": image["inlineData"]["data"],
                            }
                        },
                        {"thought_signature": image["thoughtSignature"]},
                    ],
                },
                {"role": "user", "parts": [{"text": "Change the scene to sunset"}]},
            ],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
        },
        timeout=TIMEOUT,
    )
    round2.raise_for_status()
    edited = image_of(round2.json()["candidates"][0]["content"]["parts"])
    saved = [
        save(image, out_dir / "native-curl-round-1.png"),
        save(edited, out_dir / "native-curl-round-2.png"),
    ]
    return saved, round2.headers.get("x-gateway-repairs", "")


def main(gateway: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    api_key = os.environ.get("GEMINI_API_KEY", "anything")
    saved = chat_rounds(gateway, api_key, out_dir)
    curl_saved, repairs = curl_rounds(gateway, api_key, out_dir)
    print(f"round 2 of the curl example was repaired: {repairs or 'nothing'}")
    return saved + curl_saved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    for written in main(os.environ.get("GATEWAY_URL", DEFAULT_URL), Path(sys.argv[1])):
        print(written)
