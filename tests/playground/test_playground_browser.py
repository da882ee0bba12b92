"""The playground in a real headless Chromium against a real gateway on the emulator: draw, edit,
attach references, save and reload, a hostile model answer, a client key, a phone screen. The
emulator checks every signature it receives; screenshots of each step go to .artifacts/."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.fidelity_helpers import assert_faithful
from tests.playground.conftest import Live, PageWatch

pytestmark = pytest.mark.slow
IMAGE_MODEL = "gemini-3-pro-image-preview"
TURN_DONE = """n => {
  const turns = document.querySelectorAll('.turn.model');
  const last = turns[turns.length - 1];
  return turns.length > n && (last.querySelector('.stats').textContent || last.classList.contains('failed'));
}"""


def open_page(page: PageWatch, live: Live) -> Any:
    tab = page.page
    tab.goto(f"{live.url}/")
    tab.wait_for_function("() => document.querySelector('#model').options.length > 0")
    return tab


def send(tab: Any, text: str) -> Any:
    """Types into the composer and presses Enter, as a keyboard user would; waits for the reply."""
    count = tab.locator(".turn.model").count()
    tab.fill("#prompt", text)
    tab.press("#prompt", "Enter")
    tab.wait_for_function(TURN_DONE, arg=count, timeout=20_000)
    return tab.locator(".turn.model").nth(count)


def image_src(turn: Any) -> str:
    src = turn.locator(".images img").first.get_attribute("src")
    assert src and src.startswith("data:image/"), src
    return str(src)


def png_file(path: Path, colour: tuple[int, int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_draw_then_edit_keeps_every_signature(page: PageWatch, live_gateway: Live) -> None:
    tab = open_page(page, live_gateway)
    assert tab.input_value("#model") == IMAGE_MODEL, "image models come first"
    page.shot("1-empty")
    first = send(tab, "Draw a red fox in the snow")
    page.shot("2-drawn")
    assert first.locator(".thoughts").is_visible(), "thought summaries are shown, collapsed"
    assert "signatures: exact" in first.locator(".stats").inner_text()
    second = send(tab, "Make it night time")
    page.shot("3-edited")
    assert image_src(first) != image_src(second)
    assert_faithful(live_gateway.emulator)
    stats = second.locator(".stats").inner_text()
    assert "signatures: exact" in stats and "tokens: prompt" in stats
    assert page.errors == []


def test_reference_images_and_the_gateways_limit(
    page: PageWatch, live_gateway: Live, tmp_path: Path
) -> None:
    tab = open_page(page, live_gateway)
    refs = [png_file(tmp_path / f"ref{i}.png", (40 * i, 90, 200)) for i in range(4)]
    tab.set_input_files("#attach", [str(r) for r in refs[:2]])
    tab.wait_for_function("() => document.querySelectorAll('#attachments img').length === 2")
    page.shot("1-two-attached")
    send(tab, "Put these two together")
    page.shot("2-two-sent")
    body = live_gateway.emulator.requests[-1].body
    user_parts = body["contents"][-1]["parts"]
    assert sum(1 for p in user_parts if "inlineData" in p) == 2
    assert tab.locator(".turn.user").last.locator("img").count() == 2

    tab.click("#reset")
    tab.select_option("#model", "gemini-2.5-flash-image")  # three reference images at most
    tab.set_input_files("#attach", [str(r) for r in refs])
    tab.wait_for_function("() => document.querySelectorAll('#attachments img').length === 4")
    failed = send(tab, "Too many")
    page.shot("3-over-the-limit")
    assert "failed" in (failed.get_attribute("class") or "")
    assert "at most 3" in failed.inner_text()
    assert tab.input_value("#prompt") == "Too many", "the prompt is given back to fix and resend"
    assert tab.locator("#attachments img").count() == 4
    assert [e for e in page.errors if "400" not in e] == []  # the browser logs the 400 itself


def test_save_reload_and_continue(page: PageWatch, live_gateway: Live) -> None:
    tab = open_page(page, live_gateway)
    send(tab, "Draw a lighthouse")
    with tab.expect_download() as download:
        tab.click("#save")
    saved = Path(download.value.path())
    conversation = json.loads(saved.read_text())
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["model"] == IMAGE_MODEL
    tab.click("#reset")
    assert tab.locator(".turn").count() == 0
    tab.set_input_files("#load-file", str(saved))
    tab.wait_for_function("() => document.querySelectorAll('.turn').length === 2")
    page.shot("1-reloaded")
    send(tab, "Now add a storm")
    page.shot("2-continued")
    assert_faithful(live_gateway.emulator)
    assert page.errors == []


def test_a_model_answer_is_text_never_markup(page: PageWatch, live_gateway: Live) -> None:
    tab = open_page(page, live_gateway)
    tab.select_option("#model", "gemini-2.5-flash")  # the emulator echoes the prompt back
    hostile = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>'
    answer = send(tab, hostile)
    page.shot("1-hostile-answer")
    assert "<img src=x onerror=" in answer.locator(".text").inner_text()
    assert tab.evaluate("window.__pwned") is None
    assert tab.locator(".log img[src='x']").count() == 0
    assert page.errors == []


@pytest.mark.parametrize("live_gateway", [{"client_keys": ("playground-key",)}], indirect=True)
def test_asks_for_the_client_key_and_keeps_it_in_the_session(
    page: PageWatch, live_gateway: Live
) -> None:
    tab = page.page
    tab.goto(f"{live_gateway.url}/")
    tab.wait_for_selector("#key-dialog[open]")
    page.shot("1-key-asked")
    tab.fill("#key-input", "playground-key")
    tab.click("#key-ok")
    tab.wait_for_function("() => document.querySelector('#model').options.length > 0")
    assert tab.evaluate("sessionStorage.getItem('gemini-gateway.client-key')") == "playground-key"
    assert tab.evaluate("localStorage.length") == 0
    send(tab, "Draw a kite")
    page.shot("2-with-key")
    assert all("playground-key" not in str(r.headers) for r in live_gateway.emulator.requests)
    assert [e for e in page.errors if "401" not in e] == []


def test_a_phone_and_the_keyboard_alone(browser: Any, live_gateway: Live) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    try:
        tab.goto(f"{live_gateway.url}/playground")
        tab.wait_for_function("() => document.querySelector('#model').options.length > 0")
        for _ in range(30):  # bounded: Tab through the controls to the message box
            if tab.evaluate("document.activeElement.id") == "prompt":
                break
            tab.keyboard.press("Tab")
        assert tab.evaluate("document.activeElement.id") == "prompt"
        tab.keyboard.type("Draw a boat")
        tab.keyboard.press("Enter")
        tab.wait_for_function(TURN_DONE, arg=0, timeout=20_000)
        overflow = tab.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 0, "nothing sticks out sideways on a phone"
        shots = Path(__file__).resolve().parents[2] / ".artifacts" / "playground" / "phone"
        shots.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shots / "1-phone.png"), full_page=True)
    finally:
        context.close()
