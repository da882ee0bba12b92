"""What the emulator reads out of a request's history: the prompt, its directives, the tool loop's
progress and the images so far. Computed once per request, used by the answer and the PNG."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from gateway.emulator.fields import (
    content_role,
    field,
    is_thought,
    objects,
    user_text,
)
from gateway.emulator.history import call_names, current_turn_start

_DIRECTIVE: Final = re.compile(r"#(blocked|no_image|image_safety|safety|max_tokens)\b")
_FAULT: Final = re.compile(r"#fault=(\S+)")
_STEPS: Final = re.compile(r"\bsteps=(\d+)")
_NOISE: Final = re.compile(r"#\S+|\S+=\S*")
_WORD: Final = re.compile(r"[^\W\d_][\w-]*")
_STOP_WORDS: Final = frozenset({"parallel", "steps"})


@dataclass(frozen=True)
class Directives:
    """`#name` switches in the last user text; they only apply to a fresh user text turn."""

    blocked: bool = False
    no_image: bool = False
    image_safety: bool = False
    safety: bool = False
    max_tokens: bool = False
    fault: str | None = None


@dataclass(frozen=True)
class Conversation:
    prompt: str
    fresh_turn: bool
    user_texts: tuple[str, ...]
    function_responses: tuple[dict[str, Any], ...]
    call_steps: int
    wanted_steps: int
    model_images: int
    reference_images: tuple[str, ...]

    @property
    def directives(self) -> Directives:
        if not self.fresh_turn:
            return Directives()
        found = set(_DIRECTIVE.findall(self.prompt))
        fault = _FAULT.search(self.prompt)
        return Directives(
            blocked="blocked" in found,
            no_image="no_image" in found,
            image_safety="image_safety" in found,
            safety="safety" in found,
            max_tokens="max_tokens" in found,
            fault=fault.group(1) if fault else None,
        )

    @property
    def word(self) -> str:
        """A content word from the prompt (the last one), for sample arguments and JSON values."""
        words = [
            w for w in _WORD.findall(_NOISE.sub(" ", self.prompt)) if w.lower() not in _STOP_WORDS
        ]
        return words[-1] if words else "x"

    @property
    def wants_parallel(self) -> bool:
        return re.search(r"\bparallel\b", self.prompt, re.IGNORECASE) is not None


def read_conversation(body: dict[str, Any]) -> Conversation:
    contents = objects(body, "contents")
    start = current_turn_start(contents)
    texts = tuple(
        t for c in contents if content_role(c) == "user" and (t := user_text(c)) is not None
    )
    last = contents[-1] if contents else {}
    responses: list[dict[str, Any]] = []
    if content_role(last) == "user":
        for part in objects(last, "parts"):
            response = field(part, "functionResponse")
            if isinstance(response, dict):
                responses.append(response)
    prompt = texts[-1] if texts else ""
    steps = _STEPS.search(prompt)
    return Conversation(
        prompt=prompt,
        fresh_turn=start == len(contents),
        user_texts=texts,
        function_responses=tuple(responses),
        call_steps=sum(1 for c in contents[start:] if content_role(c) == "model" and call_names(c)),
        wanted_steps=int(steps.group(1)) if steps else 1,
        model_images=_count_images(contents, "model"),
        reference_images=tuple(_image_data(contents, "user")),
    )


def _image_data(contents: list[dict[str, Any]], role: str) -> list[str]:
    found: list[str] = []
    for content in contents:
        if content_role(content) != role:
            continue
        for part in objects(content, "parts"):
            inline = field(part, "inlineData")
            if isinstance(inline, dict) and not is_thought(part):
                found.append(str(inline.get("data") or ""))
    return found


def _count_images(contents: list[dict[str, Any]], role: str) -> int:
    return len(_image_data(contents, role))
