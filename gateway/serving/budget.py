"""The history budget step, between translation and the upstream call: when the deployment
(`history_budget`) or the request (`google.history_budget`) asks for it, fit the Gemini body
under the model's input limit (translate/budget.py says how) and tell the client what was done
in `x-gateway-history` (via CallContext.history) and the operator in one log line."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import anyio.to_thread

from gateway.media import downsample
from gateway.serving.context import CallContext, Services
from gateway.serving.resolve import report
from gateway.translate.budget import (
    BudgetOutcome,
    HistoryPolicy,
    Shrunk,
    first_pass,
    history_policy,
    second_pass,
    turn_starts,
)
from gateway.translate.parse import ChatRequest

log = logging.getLogger("gateway.serving")

Json = dict[str, Any]


def header_value(outcome: BudgetOutcome, shrink_unavailable: bool) -> str:
    """`x-gateway-history`: what was done, e.g. `trimmed=4;downsampled=3`, plus
    `downsample=unavailable` (no Pillow) and `over_budget` (the newest turn alone is too big)."""
    items = [f"trimmed={outcome.trimmed}", f"downsampled={outcome.downsampled}"]
    if shrink_unavailable:
        items.append("downsample=unavailable")
    if outcome.over_budget:
        items.append("over_budget")
    return ";".join(items)


def budget_policy(chat: ChatRequest, services: Services) -> HistoryPolicy | None:
    """This request's history budget (None when off: then nothing reads image payloads in
    the body before it is written, serving/splice.py)."""
    settings = services.settings
    return history_policy(
        chat.google,
        settings.history_budget,
        settings.history_keep_turns,
        settings.history_max_tokens,
    )


async def fit_history(
    body: Json,
    model: str,
    policy: HistoryPolicy | None,
    call: CallContext,
    services: Services,
) -> Json:
    if policy is None:
        return body
    steps = (("trim", policy.trim), ("downsample", policy.downsample))  # as asked
    can_shrink = downsample.available()
    unavailable = policy.downsample and not can_shrink
    if unavailable and not policy.trim:
        # Without Pillow, `downsample` falls back to trimming what the limit requires (its
        # keep_turns window shrinks images, it never dropped turns): the budget is still met.
        policy = replace(policy, trim=True, keep_turns=0)
    first = first_pass(body, model, policy, can_shrink)
    shrunk: dict[tuple[int, int], Shrunk] = {}
    if first.to_shrink:
        shrunk = await anyio.to_thread.run_sync(downsample.shrink_all, first.to_shrink)
    outcome = second_pass(first, shrunk, model, policy)
    call.history = header_value(outcome, unavailable)
    call.notes.extend(outcome.notes)
    report(outcome.notes, services, call.request_id)
    log.log(
        _level(outcome.over_budget or unavailable, bool(outcome.trimmed or outcome.downsampled)),
        "history budget applied",
        extra={
            "request_id": call.request_id,
            "model": model,
            "mode": "+".join(name for name, on in steps if on),
            "trimmed_turns": outcome.trimmed,
            "kept_turns": _turn_count(outcome.body),
            "downsampled_images": outcome.downsampled,
            "tokens_before": outcome.tokens_before,
            "tokens_after": outcome.tokens_after,
            "token_limit": outcome.limit,
            "history": call.history,
        },
    )
    return outcome.body


def _level(alarming: bool, changed: bool) -> int:
    """Warning when the budget could not be met as asked; info when it changed the history;
    debug when it only measured (otherwise every budgeted request writes an info line)."""
    if alarming:
        return logging.WARNING
    return logging.INFO if changed else logging.DEBUG


def _turn_count(body: Json) -> int:
    contents = body.get("contents") or []
    return len(turn_starts(contents)) if contents else 0


def history_headers(call: CallContext) -> dict[str, str]:
    """The response header for routes/, empty when the budget step did not run."""
    return {"x-gateway-history": call.history} if call.history else {}
