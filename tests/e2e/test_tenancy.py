"""Tenancy (design.md, "who may get a remembered turn back"), with the real OpenAI client: a
remembered turn comes back only to the caller that made it. Tenant B sending tenant A's reply
text (or A's hosted image link) must not get A's image bytes or A's thought signatures added to
B's Gemini request; A itself keeps getting its own turns back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import DUMMY, IMAGE_MODELS, SIG, model_turns

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
NO_MIRROR = {"extra_body": {"google": {"image_markdown": False}}}
PROMPT = "a red fox in the snow"


def issued_signatures(stack: Stack) -> set[str]:
    return {p[SIG] for turn in stack.emulator.issued for p in turn["parts"] if SIG in p}


async def ask(stack: Stack, key: str, messages: list[Any], **kw: Any) -> Any:
    reply = await stack.openai(api_key=key).chat.completions.create(
        model=MODEL, messages=messages, **kw
    )
    return reply.choices[0].message


def history(content: str) -> list[Any]:
    return [
        {"role": "user", "content": PROMPT},
        {"role": "assistant", "content": content},
        {"role": "user", "content": "make it night time"},
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"client_keys": ("sk-tenant-a", "sk-tenant-b")},  # scoped by client key
        {},  # pass-through: scoped by each caller's own Gemini key
    ],
    ids=["client_keys", "pass_through"],
)
async def test_a_text_only_match_never_restores_another_tenants_turn(
    settings: dict[str, Any],
) -> None:
    async with emulator_stack(**settings) as stack:
        first = await ask(stack, "sk-tenant-a", [{"role": "user", "content": PROMPT}], **NO_MIRROR)
        assert first.content and "data:image" not in first.content  # text only: image in images[]
        signatures = issued_signatures(stack)
        assert signatures

        await ask(stack, "sk-tenant-b", history(first.content), **NO_MIRROR)
        (stolen,) = model_turns(stack.emulator.requests[-1].body)
        assert all("inlineData" not in p for p in stolen), "tenant B got tenant A's image"
        assert not {p.get(SIG) for p in stolen} & signatures, "tenant B got A's signatures"

        await ask(stack, "sk-tenant-a", history(first.content), **NO_MIRROR)
        (own,) = model_turns(stack.emulator.requests[-1].body)
        assert own == stack.emulator.issued[0]["parts"]  # A still gets its own turn back


async def test_a_hosted_link_restores_its_signature_only_for_the_tenant_that_made_it() -> None:
    async with emulator_stack(
        client_keys=("sk-tenant-a", "sk-tenant-b"), public_url="http://gateway"
    ) as stack:
        first = await ask(stack, "sk-tenant-a", [{"role": "user", "content": PROMPT}])
        link = first.images[0]["image_url"]["url"]
        assert link.startswith("http://gateway/v1/files/")
        issued_image = next(p for p in stack.emulator.issued[0]["parts"] if "inlineData" in p)
        signatures = issued_signatures(stack)
        shown = f"![image]({link})"

        await ask(stack, "sk-tenant-b", history(shown))
        (foreign,) = model_turns(stack.emulator.requests[-1].body)
        (image,) = [p for p in foreign if "inlineData" in p]
        assert image["inlineData"] == issued_image["inlineData"]  # the bytes, as a capability
        assert image.get(SIG) in {None, DUMMY}
        assert not {p.get(SIG) for p in foreign} & signatures

        await ask(stack, "sk-tenant-a", history(shown))
        (own,) = model_turns(stack.emulator.requests[-1].body)
        (image,) = [p for p in own if "inlineData" in p]
        assert image == issued_image  # with its real signature
