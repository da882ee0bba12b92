"""The seed guide's manual REST pattern (`NanoBananaChat`: append the model's whole response
back to the history), with OpenAI JSON over plain httpx instead of Gemini's `contents`. The
assistant message is stored as the JSON object it arrived as, so its `images[]` and
`extra_content` (thought signatures) go back untouched and the gateway needs no state.

    ./scripts/serve &
    GATEWAY_URL=http://127.0.0.1:8080/v1 python examples/rest_contents.py out/
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

import httpx

MODEL = "gemini-3-pro-image-preview"
DEFAULT_URL = "http://127.0.0.1:8080/v1"
PROMPTS = (
    "Generate a golden retriever running on the beach",
    "Change the scene to sunset",
    "Add a flying seagull",
)


class NanoBananaChat:
    """A minimal chat client that keeps the OpenAI `messages` by hand."""

    def __init__(self, http: httpx.Client, model: str = MODEL) -> None:
        self.http = http
        self.model = model
        self.messages: list[dict[str, Any]] = []

    def send(self, text: str, attach_image_b64: str | None = None) -> dict[str, Any]:
        content: Any = text
        if attach_image_b64:
            content = [
                {"type": "text", "text": text},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{attach_image_b64}"},
                },
            ]
        self.messages.append({"role": "user", "content": content})
        response = self.http.post(
            "/chat/completions", json={"model": self.model, "messages": self.messages}
        )
        response.raise_for_status()
        message: dict[str, Any] = response.json()["choices"][0]["message"]
        # Append the assistant message as-is (images and signatures included).
        self.messages.append(message)
        return message


def image_bytes(url: str, api_key: str) -> tuple[str, bytes]:
    """(extension, bytes) of an image the gateway returned: a data URL carries its bytes; a
    hosted URL (GATEWAY_PUBLIC_URL set on the gateway) is fetched."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return header.removeprefix("data:").split(";")[0].split("/")[-1], base64.b64decode(data)
    answer = httpx.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
    answer.raise_for_status()
    return answer.headers["content-type"].split(";")[0].split("/")[-1], answer.content


def image_files(message: dict[str, Any], api_key: str) -> list[tuple[str, bytes]]:
    """(extension, bytes) of each image in the message's `images[]`."""
    return [image_bytes(item["image_url"]["url"], api_key) for item in message.get("images") or []]


def main(base_url: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    api_key = os.environ.get("OPENAI_API_KEY", "anything")
    headers = {"Authorization": f"Bearer {api_key}"}
    saved: list[Path] = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=600) as http:
        chat = NanoBananaChat(http)
        for turn, prompt in enumerate(PROMPTS, start=1):
            message = chat.send(prompt)
            for k, (extension, data) in enumerate(image_files(message, api_key), start=1):
                path = out_dir / f"rest-turn-{turn}-{k}.{extension}"
                path.write_bytes(data)
                saved.append(path)
            print(f"turn {turn}: {prompt!r} -> {len(image_files(message, api_key))} image(s)")
    return saved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    for written in main(os.environ.get("GATEWAY_URL", DEFAULT_URL), Path(sys.argv[1])):
        print(written)
