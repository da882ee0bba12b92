"""The native routes' opt-in steps, each on per deployment (a setting) and per request (a header
that overrides it either way). Off, they cost nothing and the body stays as the client sent it.

- hosted images (`native_hosted_images`, header `x-gateway-hosted-images: true|false`): fileData
  parts pointing at this gateway's hosted images are sent as the image's bytes;
- history budget (`native_history_budget`, header `x-gateway-history-budget: trim|downsample|
  trim+downsample|off`): the chat route's budget (translate/budget.py) on native `contents`.
  It reads the images, so the body is filled in (payloads copied) and written out again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway.errors import InvalidRequestError
from gateway.serving.budget import fit_history
from gateway.serving.context import CallContext, Services
from gateway.serving.resolve import hosted_image
from gateway.translate.budget import MODES, HistoryPolicy, history_policy
from gateway.translate.native import skeleton
from gateway.translate.native.hosted import hosted_parts, inline

HISTORY_HEADER: Final = "x-gateway-history-budget"
HOSTED_HEADER: Final = "x-gateway-hosted-images"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def native_policy(headers: Mapping[str, str], services: Services) -> HistoryPolicy | None:
    settings = services.settings
    asked = headers.get(HISTORY_HEADER)
    override: dict[str, str] = {}
    if asked is not None:
        override["history_budget"] = asked.strip().lower()
        if override["history_budget"] not in MODES:
            raise InvalidRequestError(f"{HISTORY_HEADER} must be one of {sorted(MODES)}")
    return history_policy(
        override,
        settings.native_history_budget,
        settings.history_keep_turns,
        settings.history_max_tokens,
    )


def hosted_on(headers: Mapping[str, str], services: Services) -> bool:
    asked = headers.get(HOSTED_HEADER)
    if asked is None:
        return services.settings.native_hosted_images
    value = asked.strip().lower()
    if value not in _TRUE | _FALSE:
        raise InvalidRequestError(f"{HOSTED_HEADER} must be true or false")
    return value in _TRUE


def _content_ok(content: object) -> bool:
    parts = content.get("parts", []) if isinstance(content, dict) else None
    return isinstance(parts, list) and all(isinstance(part, dict) for part in parts)


def budgetable(body: Mapping[str, object]) -> bool:
    """Whether the budget can read the body: `contents` a list of objects whose `parts` are
    lists of objects, a `systemInstruction` likewise. Anything else is the client's mistake,
    which the budget leaves alone (it was a 500 here) for Gemini to answer with its own 400."""
    contents = body.get("contents")
    system = body.get("systemInstruction")
    return (
        isinstance(contents, list)
        and all(_content_ok(content) for content in contents)
        and (system is None or _content_ok(system))
    )


async def apply_options(
    parsed: skeleton.Skeleton,
    method: str,
    headers: Mapping[str, str],
    call: CallContext,
    services: Services,
) -> tuple[bool, dict[str, str]]:
    """Runs the steps that are on, in place on `parsed`: whether they changed the body, and
    the response headers saying what they did."""
    said: dict[str, str] = {}
    changed = False
    hosted = services.hosted
    if hosted is not None and hosted_on(headers, services):
        found = hosted_parts(parsed.data, hosted.name_of)
        for part, name in found:
            image = await hosted_image(services, name, None)
            if image is None:
                raise InvalidRequestError(
                    "this gateway-hosted image is unknown or has expired; send the image again"
                )
            inline(part, *image)
        if found:
            changed = True
            said[HOSTED_HEADER] = f"inlined={len(found)}"
            call.notes.append(f"native_hosted_images:{len(found)}")
    policy = native_policy(headers, services) if method != "countTokens" else None
    if policy is not None and budgetable(parsed.data):
        filled = skeleton.filled(parsed)
        fitted = await fit_history(filled, call.model, policy, call, services)
        said["x-gateway-history"] = call.history
        if not call.history.startswith("trimmed=0;downsampled=0"):
            parsed.data, parsed.holes = fitted, []
            changed = True
    return changed, said
