"""The seed guide's SDK pattern (`chat = client.chats.create(...)`, then `chat.send_message(...)`
turn after turn) with the plain OpenAI SDK against the gateway: a small chat object that keeps
every assistant message exactly as it came back. The message carries the image and its thought
signatures, so each turn edits the previous image instead of starting over.

    ./scripts/serve &
    GATEWAY_URL=http://127.0.0.1:8080/v1 python examples/chat_loop.py out/
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from openai import OpenAI

MODEL = "gemini-3-pro-image-preview"
DEFAULT_URL = "http://127.0.0.1:8080/v1"
PROMPTS = (
    "Generate an image of a golden retriever running on the beach",
    "Change the scene to sunset and add a flying seagull",
    "Change the dog's color to dark brown",
)


class ImageChat:
    """Keeps the whole conversation, as `client.chats.create()` does in Google's SDK."""

    def __init__(self, client: OpenAI, model: str) -> None:
        self.client = client
        self.model = model
        self.messages: list[Any] = []

    def send_message(self, text: str) -> Any:
        self.messages.append({"role": "user", "content": text})
        reply = self.client.chat.completions.create(model=self.model, messages=self.messages)
        message = reply.choices[0].message
        # Append the message object itself: images[] and extra_content (signatures) go back.
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


def save_images(message: Any, out_dir: Path, stem: str, api_key: str) -> list[Path]:
    """Writes `message.images[]` (data URLs or hosted URLs) as files named after the turn."""
    saved = []
    for k, item in enumerate(getattr(message, "images", None) or []):
        extension, data = image_bytes(item["image_url"]["url"], api_key)
        path = out_dir / f"{stem}-{k + 1}.{extension}"
        path.write_bytes(data)
        saved.append(path)
    return saved


def main(base_url: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    api_key = os.environ.get("OPENAI_API_KEY", "anything")
    saved: list[Path] = []
    with OpenAI(base_url=base_url, api_key=api_key) as client:
        chat = ImageChat(client, MODEL)
        for turn, prompt in enumerate(PROMPTS, start=1):
            message = chat.send_message(prompt)
            saved += save_images(message, out_dir, f"chat-turn-{turn}", api_key)
            print(f"turn {turn}: {prompt!r} -> {len(message.images or [])} image(s)")
    return saved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    for written in main(os.environ.get("GATEWAY_URL", DEFAULT_URL), Path(sys.argv[1])):
        print(written)
