"""The trimming and downsampling policy of translate/budget.py, on Gemini bodies shaped like the
gateway's own: whole turns dropped from the front, never a functionCall without its response,
never a model turn first, the newest turn and the newest images always kept."""

from __future__ import annotations

import base64
import copy
import io
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from gateway.serving.budget import header_value
from gateway.translate.budget import (
    BudgetOutcome,
    HistoryPolicy,
    Shrunk,
    first_pass,
    second_pass,
    turn_starts,
)
from gateway.translate.signatures import DUMMY_SIGNATURE
from gateway.translate.token_estimate import estimate_tokens, image_size

Json = dict[str, Any]
MODEL = "gemini-3-pro-image-preview"
TRIM = HistoryPolicy(trim=True, downsample=False)
SHRINK = HistoryPolicy(trim=False, downsample=True)
BOTH = HistoryPolicy(trim=True, downsample=True)


@cache
def png(side: int, shade: int = 0) -> str:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (shade % 256, 90, 160)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def user(text: str) -> Json:
    return {"role": "user", "parts": [{"text": text}]}


def image_part(side: int, n: int, signed: bool = True) -> Json:
    part: Json = {"inlineData": {"mimeType": "image/png", "data": png(side, n)}}
    if signed:
        part["thoughtSignature"] = f"sig-image-{n}"
    return part


def model_image(n: int, side: int = 1024) -> Json:
    text = {"text": f"Here is image {n}", "thoughtSignature": f"sig-text-{n}"}
    return {"role": "model", "parts": [text, image_part(side, n)]}


def tool_call(n: int) -> Json:
    call = {"functionCall": {"name": "look", "args": {"n": n}}, "thoughtSignature": f"sig-fc-{n}"}
    return {"role": "model", "parts": [call]}


def tool_result(n: int) -> Json:
    return {"role": "user", "parts": [{"functionResponse": {"name": "look", "response": {"n": n}}}]}


def image_conversation(turns: int, side: int = 1024) -> Json:
    contents: list[Json] = []
    for n in range(turns):
        contents += [user(f"edit number {n}"), model_image(n, side)]
    return {"contents": [*contents, user("and now the last edit")]}


def run(body: Json, policy: HistoryPolicy, model: str = MODEL) -> BudgetOutcome:
    first = first_pass(body, model, policy, can_shrink=True)
    shrunk = {
        (ref.content, ref.part): Shrunk(ref.mime_type, png(ref.target[0], 7), ref.target)
        for ref in first.to_shrink
    }
    return second_pass(first, shrunk, model, policy)


def test_trim_drops_the_oldest_turns_until_the_estimate_fits() -> None:
    body = image_conversation(12)
    per_turn = estimate_tokens({"contents": body["contents"][:2]}, MODEL)
    newest = estimate_tokens({"contents": body["contents"][-1:]}, MODEL)
    limit = 4 * per_turn + newest
    out = run(body, HistoryPolicy(trim=True, downsample=False, max_tokens=limit))
    assert out.trimmed == 8
    assert out.body["contents"] == body["contents"][16:]
    assert out.tokens_after == estimate_tokens(out.body, MODEL) <= limit
    assert out.tokens_before == estimate_tokens(body, MODEL) > limit
    assert header_value(out, False) == "trimmed=8;downsampled=0"


def test_nothing_happens_under_the_limit() -> None:
    body = image_conversation(12)
    out = run(body, BOTH)
    assert out.body == body and (out.trimmed, out.downsampled) == (0, 0)


def test_keep_turns_is_a_window_even_under_the_limit() -> None:
    body = image_conversation(6)
    out = run(body, HistoryPolicy(trim=True, downsample=False, keep_turns=2))
    assert out.trimmed == 4
    assert out.body["contents"] == body["contents"][8:]


def test_the_newest_turn_stays_even_alone_over_the_limit() -> None:
    body = image_conversation(3)
    out = run(body, HistoryPolicy(trim=True, downsample=False, max_tokens=1))
    assert out.body["contents"] == body["contents"][-1:]
    assert out.over_budget and out.trimmed == 3
    assert header_value(out, False) == "trimmed=3;downsampled=0;over_budget"


def test_a_tool_loop_is_one_turn() -> None:
    contents = [
        user("plan a trip"),
        tool_call(1),
        tool_result(1),
        tool_call(2),
        tool_result(2),
        {"role": "model", "parts": [{"text": "Done."}]},
        user("x" * 4000),
        tool_call(3),
        tool_result(3),
    ]
    body = {"contents": contents}
    assert turn_starts(contents) == [0, 6]
    out = run(body, HistoryPolicy(trim=True, downsample=False, max_tokens=1010))
    assert out.body["contents"] == contents[6:]


def test_a_user_message_merged_with_tool_results_does_not_start_a_turn() -> None:
    merged = {"role": "user", "parts": [*tool_result(1)["parts"], {"text": "also this"}]}
    contents = [user("a"), tool_call(1), merged, {"role": "model", "parts": [{"text": "ok"}]}]
    assert turn_starts([*contents, user("b")]) == [0, 4]


def test_downsampling_picks_older_images_oldest_first_and_keeps_the_newest() -> None:
    body = image_conversation(6)
    full = estimate_tokens(body, MODEL)
    # 1024 px images cost 1032 tokens, 512 px ones 258: room for shrinking exactly three.
    limit = full - 3 * (1032 - 258)
    first = first_pass(body, MODEL, HistoryPolicy(False, True, max_tokens=limit), True)
    assert [(ref.content, ref.part) for ref in first.to_shrink] == [(1, 1), (3, 1), (5, 1)]
    assert all(ref.size == (1024, 1024) and ref.target == (512, 512) for ref in first.to_shrink)
    everything = first_pass(body, MODEL, HistoryPolicy(False, True, max_tokens=1), True)
    # Never the newest model image (turn 5, content 11) nor anything in the newest turn.
    assert [ref.content for ref in everything.to_shrink] == [1, 3, 5, 7, 9]


def test_images_that_fit_one_tile_are_not_worth_shrinking() -> None:
    body = image_conversation(6, side=700)
    first = first_pass(body, MODEL, HistoryPolicy(False, True, max_tokens=1), True)
    assert first.to_shrink == ()


def test_big_images_shrink_to_one_tile() -> None:
    body = image_conversation(3, side=2000)
    first = first_pass(body, MODEL, HistoryPolicy(False, True, max_tokens=1), True)
    assert {ref.target for ref in first.to_shrink} == {(768, 768)}


def test_keep_turns_without_trimming_shrinks_everything_outside_the_window() -> None:
    body = image_conversation(6)
    first = first_pass(body, MODEL, HistoryPolicy(False, True, keep_turns=2), True)
    assert [ref.content for ref in first.to_shrink] == [1, 3, 5, 7]


def test_a_shrunk_image_carries_the_dummy_on_gemini3_and_nothing_elsewhere() -> None:
    body = image_conversation(4)
    original = copy.deepcopy(body)
    policy = HistoryPolicy(False, True, keep_turns=1)
    g3 = run(body, policy)
    assert g3.downsampled == 3  # turns 0-2; turn 3 is the window, turn 4 the newest
    assert g3.notes == ("signature_fallback:downsampled_image",) * 3
    for i in (1, 3, 5):
        text, image = g3.body["contents"][i]["parts"]
        assert text == body["contents"][i]["parts"][0]  # the text keeps its own signature
        assert image["thoughtSignature"] == DUMMY_SIGNATURE
        assert image_size(image["inlineData"]["data"]) == (512, 512)
    assert g3.body["contents"][6:] == body["contents"][6:]
    other = run(body, policy, model="gemini-2.5-flash-image")
    assert "thoughtSignature" not in other.body["contents"][1]["parts"][1]
    assert other.notes == ()
    assert body == original  # the input is never modified


def test_unsigned_images_stay_unsigned_when_shrunk() -> None:
    contents = [user("a"), {"role": "model", "parts": [image_part(1024, 1, signed=False)]}]
    contents += [user("b"), model_image(2), user("c")]
    out = run({"contents": contents}, HistoryPolicy(False, True, max_tokens=1))
    assert out.downsampled == 1
    assert "thoughtSignature" not in out.body["contents"][1]["parts"][0]
    assert out.notes == ()


def test_trim_and_downsample_shrinks_before_it_trims() -> None:
    """Only the turns that would not fit even with every older image shrunk are dropped; the
    rest keep their text and turn, with smaller images."""
    body = image_conversation(6)
    full = estimate_tokens(body, MODEL)
    limit = full - 5 * (1032 - 258) - 1  # even shrinking all five older images is not enough
    out = run(body, HistoryPolicy(True, True, max_tokens=limit))
    assert out.trimmed == 1
    assert out.downsampled == 4  # turns 1-4; turn 0 went, turn 5 holds the newest image
    assert out.tokens_after <= limit
    kept = out.body["contents"]
    assert kept[0] == body["contents"][2]
    assert [image_size(c["parts"][1]["inlineData"]["data"]) for c in kept[1:9:2]] == [
        (512, 512)
    ] * 4
    assert kept[9:] == body["contents"][11:]


def test_an_unavailable_downsampler_is_said_in_the_header() -> None:
    body = image_conversation(3)
    first = first_pass(body, MODEL, BOTH, can_shrink=False)
    assert first.to_shrink == ()
    out = second_pass(first, {}, MODEL, BOTH)
    assert header_value(out, True) == "trimmed=0;downsampled=0;downsample=unavailable"


# -- properties over generated conversations -----------------------------------------------------

SIDES = (64, 700, 1024, 1600)


@st.composite
def conversations(draw: st.DrawFn) -> list[Json]:
    contents: list[Json] = []
    for n in range(draw(st.integers(1, 8))):
        contents.append(user("u" * draw(st.integers(0, 400))))
        for k in range(draw(st.integers(0, 2))):
            contents += [tool_call(10 * n + k), tool_result(10 * n + k)]
        if draw(st.booleans()):
            contents.append(model_image(n, draw(st.sampled_from(SIDES))))
        else:
            contents.append({"role": "model", "parts": [{"text": "m" * draw(st.integers(1, 400))}]})
    contents.append(user("the newest request"))
    if draw(st.booleans()):
        contents += [tool_call(999), tool_result(999)]
    return contents


def answered(contents: list[Json]) -> bool:
    for i, content in enumerate(contents):
        has_call = any("functionCall" in p for p in content["parts"])
        if has_call and i + 1 < len(contents):
            if not any("functionResponse" in p for p in contents[i + 1]["parts"]):
                return False
    starts_with_result = any("functionResponse" in p for p in contents[0]["parts"])
    return contents[0]["role"] == "user" and not starts_with_result


@settings(max_examples=150, deadline=None)
@given(conversations(), st.integers(1, 12_000), st.integers(0, 4), st.booleans())
def test_trimming_keeps_a_valid_suffix(
    contents: list[Json], limit: int, keep: int, shrink: bool
) -> None:
    body = {"contents": contents}
    policy = HistoryPolicy(True, shrink, keep_turns=keep, max_tokens=limit)
    out = run(body, policy)
    kept = out.body["contents"]
    starts = turn_starts(contents)
    cut = len(contents) - len(kept)
    assert cut in starts
    assert contents[starts[-1] :] == kept[len(kept) - (len(contents) - starts[-1]) :]
    assert answered(kept)
    assert out.tokens_after == estimate_tokens(out.body, MODEL)
    if keep:
        assert len(turn_starts(kept)) <= keep + 1
    if out.tokens_after > limit:
        assert cut == starts[-1]  # only the newest turn is left
    shrunk = {
        i
        for i, c in enumerate(kept)
        for p in c["parts"]
        if p.get("thoughtSignature") == DUMMY_SIGNATURE
    }
    for i, content in enumerate(kept):
        if i not in shrunk:
            assert content == contents[cut + i]  # kept turns are untouched, signatures and all
    assert out.downsampled == len(shrunk) or not shrink
    if not shrink:
        assert not shrunk


@settings(max_examples=100, deadline=None)
@given(conversations(), st.integers(1, 12_000), st.integers(0, 4))
def test_shrinking_alone_keeps_every_turn_and_the_newest_images(
    contents: list[Json], limit: int, keep: int
) -> None:
    body = {"contents": contents}
    out = run(body, HistoryPolicy(False, True, keep_turns=keep, max_tokens=limit))
    kept = out.body["contents"]
    assert out.trimmed == 0 and len(kept) == len(contents)
    starts = turn_starts(contents)
    newest_image = max(
        (i for i, c in enumerate(contents) if any("inlineData" in p for p in c["parts"])),
        default=None,
    )
    changed = [i for i, (a, b) in enumerate(zip(contents, kept, strict=True)) if a != b]
    assert len(changed) == out.downsampled
    for i in changed:
        assert i < starts[-1] and i != newest_image
        before, after = contents[i]["parts"], kept[i]["parts"]
        assert before[0] == after[0]  # the text and its signature
        old, new = (image_size(p[1]["inlineData"]["data"]) for p in (before, after))
        assert old is not None and new is not None and max(old) > 768
        assert new == (max(1, round(old[0] / 2)), max(1, round(old[1] / 2))) or max(new) == 768
        assert after[1]["thoughtSignature"] == DUMMY_SIGNATURE
    if changed and out.tokens_after <= limit and not keep:
        # Only as many as needed: the last image shrunk was still needed to fit.
        last = changed[-1]
        saving = estimate_tokens({"contents": [contents[last]]}, MODEL) - estimate_tokens(
            {"contents": [kept[last]]}, MODEL
        )
        assert out.tokens_after + saving > limit
