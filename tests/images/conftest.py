"""Every Images API test that uses the emulator stack has each upstream body it caused checked
with google-genai's own types when it ends (tests/validators.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from images_helpers import upstream_bodies


@pytest.fixture
async def stack(stack: Any) -> AsyncIterator[Any]:
    yield stack
    upstream_bodies(stack)
