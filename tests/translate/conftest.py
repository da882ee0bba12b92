"""Shared by the translate/ tests: the golden-file checker bound to this run's options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import golden
import pytest


@pytest.fixture
def check_golden(pytestconfig: pytest.Config) -> Callable[[Path, Any], None]:
    def check(path: Path, actual: Any) -> None:
        golden.check(pytestconfig, path, actual)

    return check
