"""The seed article's SDK chat and its Scenario 3 (restoring history across sessions), with
google-genai pointed at the gateway by its base URL: two edits, the history saved as JSON, a new
client restoring it, and one more edit that still carries every image and signature.

    ./scripts/serve &
    GATEWAY_URL=http://127.0.0.1:8080 python examples/native_sdk_history.py out/

One change to the article's code: `json.dump(chat.get_history(), f)` as written fails (the history
is a list of pydantic `Content` objects); each is dumped with `model_dump(mode="json")` first.
The restored history then holds snake_case names (`inline_data`, `thought_signature`) and
URL-safe base64, which Gemini and the gateway both accept.

`GEMINI_API_KEY` is the key (default `anything`); `GOOGLE_GENAI_API_VERSION` the API version the
SDK speaks (default its own, `v1`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from google import genai
from google.genai import types

DEFAULT_URL = "http://127.0.0.1:8080"
MODEL = "gemini-3-pro-image-preview"


def make_client(gateway: str) -> genai.Client:
    version = os.environ.get("GOOGLE_GENAI_API_VERSION") or None
    options = types.HttpOptions(base_url=gateway, api_version=version)
    return genai.Client(api_key=os.environ.get("GEMINI_API_KEY", "anything"), http_options=options)


def save_images(reply: types.GenerateContentResponse, path: Path) -> list[Path]:
    parts = (
        reply.candidates[0].content.parts
        if reply.candidates and reply.candidates[0].content
        else None
    )
    images = [p.inline_data.data for p in parts or [] if p.inline_data and p.inline_data.data]
    for data in images[:1]:
        path.write_bytes(data)
    return [path] if images else []


def main(gateway: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    client = make_client(gateway)
    chat = client.chats.create(model=MODEL)
    reply = chat.send_message("Design a coffee brand poster with a dark blue gradient background")
    saved += save_images(reply, out_dir / "sdk-turn-1.png")
    reply = chat.send_message("Change the headline copy to 'Awaken Your Morning'")
    saved += save_images(reply, out_dir / "sdk-turn-2.png")

    # Save
    session = out_dir / "session.json"
    with session.open("w") as f:
        json.dump(
            [content.model_dump(mode="json", exclude_none=True) for content in chat.get_history()],
            f,
        )

    # Restore (a new client, as after a restart)
    with session.open() as f:
        history = json.load(f)
    restored_client = make_client(gateway)
    restored_chat = restored_client.chats.create(model=MODEL, history=history)
    reply = restored_chat.send_message("Continuing from before, make the background a bit brighter")
    saved += save_images(reply, out_dir / "sdk-turn-3-restored.png")
    return saved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    for written in main(os.environ.get("GATEWAY_URL", DEFAULT_URL), Path(sys.argv[1])):
        print(written)
