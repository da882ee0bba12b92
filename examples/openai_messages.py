"""The seed guide's "OpenAI-compatible interface" pattern, unchanged: a plain `messages` list
where each assistant turn is stored as `{"role": "assistant", "content": message.content}`.
The gateway mirrors the image into `content` as a markdown data URL, so the image comes back
on the next turn; the thought signatures come back from the gateway's turn cache.

    ./scripts/serve &
    GATEWAY_URL=http://127.0.0.1:8080/v1 python examples/openai_messages.py out/
"""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path

import httpx
from openai import OpenAI

MODEL = "gemini-3-pro-image-preview"
DEFAULT_URL = "http://127.0.0.1:8080/v1"
PROMPTS = (
    "Generate an image of a golden retriever running on the beach",
    "Change the scene to sunset",
    "Add a flying seagull",
)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(((?:data:image/|https?://)[^)\s]+)\)")


def image_bytes(url: str, api_key: str) -> tuple[str, bytes]:
    """(extension, bytes) of an image the gateway returned: a data URL carries its bytes; a
    hosted URL (GATEWAY_PUBLIC_URL set on the gateway) is fetched."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return header.removeprefix("data:").split(";")[0].split("/")[-1], base64.b64decode(data)
    answer = httpx.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
    answer.raise_for_status()
    return answer.headers["content-type"].split(";")[0].split("/")[-1], answer.content


def images_in(content: str | None, api_key: str) -> list[tuple[str, bytes]]:
    """(extension, bytes) of each markdown image (data URL or hosted URL) in a message's text."""
    return [
        image_bytes(match.group(1), api_key) for match in MARKDOWN_IMAGE.finditer(content or "")
    ]


def main(base_url: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    api_key = os.environ.get("OPENAI_API_KEY", "anything")
    saved: list[Path] = []
    with OpenAI(base_url=base_url, api_key=api_key) as client:
        messages: list[dict[str, str]] = []
        for turn, prompt in enumerate(PROMPTS, start=1):
            messages.append({"role": "user", "content": prompt})
            response = client.chat.completions.create(model=MODEL, messages=messages)
            content = response.choices[0].message.content
            # Only the text is kept, as in the guide; the image travels inside it.
            messages.append({"role": "assistant", "content": content or ""})
            for k, (extension, data) in enumerate(images_in(content, api_key), start=1):
                path = out_dir / f"messages-turn-{turn}-{k}.{extension}"
                path.write_bytes(data)
                saved.append(path)
            print(f"turn {turn}: {prompt!r} -> {len(images_in(content, api_key))} image(s)")
    return saved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    for written in main(os.environ.get("GATEWAY_URL", DEFAULT_URL), Path(sys.argv[1])):
        print(written)
