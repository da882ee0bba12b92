"""A real headless Chromium driving the playground served by a real gateway on 127.0.0.1.

Chromium comes from the system (Debian's `chromium`; Playwright's own browser download is not
reachable here). Without it these tests skip with the reason, unless GATEWAY_REQUIRE_BROWSER=1
(set by .ci/run, which installs Chromium) turns the skip into a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import ROOT, make_settings
from tests.hardening.loopback import serve

ARTIFACTS = ROOT / ".artifacts" / "playground"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    explicit = os.environ.get("GATEWAY_CHROMIUM")
    if explicit:
        return explicit
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: while Playwright's sync API runs it holds an event loop on this thread,
    so it must be gone before the async tests of other modules run."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        reason = "no Chromium on PATH (apt-get install chromium) or Playwright missing"
        if os.environ.get("GATEWAY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Live:
    url: str
    emulator: Any  # the emulator's EmulatorState: every request it received, every turn issued


@pytest.fixture
def live_gateway(request: pytest.FixtureRequest) -> Iterator[Live]:
    overrides = getattr(request, "param", {})
    emulator = build_emulator_app()
    app = build_app(
        make_settings(**overrides), upstream_transport=httpx.ASGITransport(app=emulator)
    )
    with serve(app) as url:
        yield Live(url, emulator.state.emulator)


@dataclass
class PageWatch:
    """The page, and every console error or uncaught exception it had."""

    page: Any
    errors: list[str]
    shots: Path

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[PageWatch]:
    shots = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield PageWatch(tab, errors, shots)
    finally:
        context.close()
