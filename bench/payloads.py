"""Deterministic payloads: PNGs of an exact size, canned Gemini answers and the request bodies of
each scenario, in both wire shapes (OpenAI for the gateway, Gemini-native for the direct floor).

Everything derives from a seed, so the orchestrator knows the exact bytes the fake upstream will
send back without asking it, and can check them byte for byte in the gateway's answer.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"
PROMPT = "Write a haiku about API gateways."
IMAGE_PROMPT = "Draw a lighthouse at dusk."
EDIT_PROMPT = "Combine these reference images."
_WORDS = [
    "amber",
    "harbour",
    "lantern",
    "quietly",
    "folds",
    "the",
    "tide",
    "into",
    "paper",
    "boats",
    "at",
    "dusk",
]
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def make_png(size: int, seed: int) -> bytes:
    """A valid RGB PNG of exactly `size` bytes (>= 200): incompressible pixels, stored deflate,
    topped up with a private ancillary chunk so the size is exact."""
    rng = random.Random(seed)
    width = 256 if size >= 8192 else 8
    row = 1 + width * 3
    fixed = len(_PNG_SIGNATURE) + 25 + 12 + 12 + 12  # IHDR, IDAT, IEND and a padding chunk

    def fits(rows: int) -> bool:  # stored deflate: 5 bytes per block (<= 16 KiB here) + 6
        raw_len = rows * row
        return fixed + raw_len + 5 * (raw_len // 16384 + 1) + 6 <= size

    rows = max(1, (size - fixed) // row)
    while rows > 1 and not fits(rows):
        rows -= 1
    raw = b"".join(b"\x00" + rng.randbytes(row - 1) for _ in range(rows))
    ihdr = struct.pack(">IIBBBBB", width, rows, 8, 2, 0, 0, 0)
    body = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw, 0))
    pad = size - len(_PNG_SIGNATURE) - len(body) - 12 - 12
    if pad < 0:
        raise ValueError(f"cannot make a PNG of exactly {size} bytes")
    padding = _png_chunk(b"bnCh", rng.randbytes(pad))
    png = _PNG_SIGNATURE + body + padding + _png_chunk(b"IEND", b"")
    assert len(png) == size
    return png


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _words(count: int, offset: int = 0) -> str:
    return " ".join(_WORDS[(offset + i) % len(_WORDS)] for i in range(count))


@dataclass(frozen=True, slots=True)
class FakeConfig:
    """What the fake upstream answers (sizes as in the targets: 20 events, 2 MB + 0.4 MB out)."""

    text_words: int = 60
    sse_events: int = 20
    text_sig_bytes: int = 256
    image_bytes: int = 2_000_000
    image_sig_bytes: int = 300_000  # 400,000 base64 characters
    seed: int = 20260101

    def as_args(self) -> list[str]:
        return [
            f"--text-words={self.text_words}",
            f"--sse-events={self.sse_events}",
            f"--text-sig-bytes={self.text_sig_bytes}",
            f"--image-bytes={self.image_bytes}",
            f"--image-sig-bytes={self.image_sig_bytes}",
            f"--seed={self.seed}",
        ]


@dataclass(slots=True)
class Canned:
    """The fake's answers, pre-serialised, and the values a correct gateway must pass on."""

    config: FakeConfig
    text: str = ""
    text_sig: str = ""
    stream_texts: list[str] = field(default_factory=list)
    image_text: str = ""
    png_b64: str = ""
    image_sig: str = ""
    unary_text: bytes = b""
    unary_image: bytes = b""
    sse_text: list[bytes] = field(default_factory=list)

    @classmethod
    def build(cls, config: FakeConfig) -> Canned:
        rng = random.Random(config.seed)
        canned = cls(config)
        canned.text = _words(config.text_words)
        canned.text_sig = b64(rng.randbytes(config.text_sig_bytes))
        per = max(1, config.text_words // config.sse_events)
        canned.stream_texts = [_words(per, i * per) + " " for i in range(config.sse_events)]
        canned.image_text = "Here is your lighthouse."
        canned.png_b64 = b64(make_png(config.image_bytes, config.seed + 1))
        canned.image_sig = b64(rng.randbytes(config.image_sig_bytes))
        canned.unary_text = orjson.dumps(canned._unary(TEXT_MODEL, image=False))
        canned.unary_image = orjson.dumps(canned._unary(IMAGE_MODEL, image=True))
        canned.sse_text = [
            b"data: " + orjson.dumps(event) + b"\r\n\r\n" for event in canned._events(TEXT_MODEL)
        ]
        return canned

    def usage(self, image: bool) -> dict[str, Any]:
        out = 1290 if image else self.config.text_words
        return {"promptTokenCount": 9, "candidatesTokenCount": out, "totalTokenCount": 9 + out}

    def _unary(self, model: str, image: bool) -> dict[str, Any]:
        if image:
            parts: list[dict[str, Any]] = [
                {"text": self.image_text},
                {
                    "inlineData": {"mimeType": "image/png", "data": self.png_b64},
                    "thoughtSignature": self.image_sig,
                },
            ]
        else:
            parts = [{"text": self.text, "thoughtSignature": self.text_sig}]
        candidate = {
            "content": {"role": "model", "parts": parts},
            "finishReason": "STOP",
            "index": 0,
        }
        return {
            "candidates": [candidate],
            "usageMetadata": self.usage(image),
            "modelVersion": model,
            "responseId": "benchResponse01",
        }

    def _events(self, model: str) -> list[dict[str, Any]]:
        events = []
        last = len(self.stream_texts) - 1
        for i, piece in enumerate(self.stream_texts):
            part: dict[str, Any] = {"text": piece}
            if i == 0:
                part["thoughtSignature"] = self.text_sig
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
            if i == last:
                candidate["finishReason"] = "STOP"
            events.append(
                {
                    "candidates": [candidate],
                    "usageMetadata": self.usage(False),
                    "modelVersion": model,
                    "responseId": "benchResponse01",
                }
            )
        return events


@dataclass(frozen=True, slots=True)
class Scenario:
    """One request, in both shapes, and what the answer must contain."""

    name: str
    openai_body: bytes
    gemini_path: str
    gemini_body: bytes
    streaming: bool = False
    images_in: tuple[str, ...] = ()  # base64 payloads the upstream must receive unchanged
    path: str = "/v1/chat/completions"  # where the gateway takes `openai_body`
    base: str = ""  # a /v1/responses twin names the chat scenario it mirrors


RESPONSES_PATH = "/v1/responses"


def responses_twin(name: str) -> tuple[str, bool]:
    """("text", True) for "rtext": the chat scenario a name mirrors, and whether it is a twin."""
    if name.startswith("r") and name[1:] in {"text", "stream", "img4", "imgout"}:
        return name[1:], True
    return name, False


def _openai(model: str, content: Any, stream: bool = False) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 256,
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def _responses(model: str, content: Any, stream: bool = False) -> bytes:
    """The same request through /v1/responses (stored, as the API's default)."""
    if isinstance(content, list):
        content = [
            {"type": "input_text", "text": part["text"]}
            if part["type"] == "text"
            else {"type": "input_image", "image_url": part["image_url"]["url"]}
            for part in content
        ]
    body: dict[str, Any] = {
        "model": model,
        "input": [{"role": "user", "content": content}],
        "max_output_tokens": 256,
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def _gemini(parts: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {"maxOutputTokens": 256},
        }
    )


def scenarios(images: int = 4, image_bytes: int = 1 << 20, seed: int = 11) -> dict[str, Scenario]:
    """text, stream, img4 (N PNG data URLs in), imgout (the fake answers with a large image),
    and their /v1/responses twins rtext, rstream, rimg4, rimgout (same upstream traffic)."""
    generate = f"/v1beta/models/{TEXT_MODEL}:generateContent"
    pictures = tuple(b64(make_png(image_bytes, seed + i)) for i in range(images))
    oai_parts: list[dict[str, Any]] = [{"type": "text", "text": EDIT_PROMPT}]
    oai_parts += [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
        for data in pictures
    ]
    gem_parts: list[dict[str, Any]] = [{"text": EDIT_PROMPT}]
    gem_parts += [{"inlineData": {"mimeType": "image/png", "data": data}} for data in pictures]
    chat = {
        "text": Scenario(
            "text", _openai(TEXT_MODEL, PROMPT), generate, _gemini([{"text": PROMPT}])
        ),
        "stream": Scenario(
            "stream",
            _openai(TEXT_MODEL, PROMPT, stream=True),
            f"/v1beta/models/{TEXT_MODEL}:streamGenerateContent?alt=sse",
            _gemini([{"text": PROMPT}]),
            streaming=True,
        ),
        "img4": Scenario(
            "img4",
            _openai(TEXT_MODEL, oai_parts),
            generate,
            _gemini(gem_parts),
            images_in=pictures,
        ),
        "imgout": Scenario(
            "imgout",
            _openai(IMAGE_MODEL, IMAGE_PROMPT),
            f"/v1beta/models/{IMAGE_MODEL}:generateContent",
            _gemini([{"text": IMAGE_PROMPT}]),
        ),
    }
    contents = {"text": PROMPT, "stream": PROMPT, "img4": oai_parts, "imgout": IMAGE_PROMPT}
    twins = {
        f"r{name}": replace(
            scenario,
            name=f"r{name}",
            openai_body=_responses(
                IMAGE_MODEL if name == "imgout" else TEXT_MODEL,
                contents[name],
                stream=scenario.streaming,
            ),
            path=RESPONSES_PATH,
            base=name,
        )
        for name, scenario in chat.items()
    }
    return {**chat, **twins}
