"""Golden files: one directory per case, inputs and expected outputs side by side.

Expected files are pretty JSON with sorted keys (`.jsonl`: one compact sorted object a line),
compared as parsed JSON. `pytest --update-golden` rewrites them from the current output; the
diff then goes through review like any code change.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import orjson
import pytest


def case_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "README.md").is_file())


def load(path: Path) -> Any:
    if path.suffix == ".jsonl":
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return orjson.loads(path.read_bytes())


def dump(path: Path, value: Any) -> bytes:
    if path.suffix == ".jsonl":
        return b"".join(orjson.dumps(v, option=orjson.OPT_SORT_KEYS) + b"\n" for v in value)
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def check(config: pytest.Config, path: Path, actual: Any) -> None:
    """Compare `actual` with the golden file at `path` (or rewrite it under --update-golden)."""
    actual = orjson.loads(orjson.dumps(actual))  # tuples → lists, as the wire would have it
    if config.getoption("--update-golden"):
        path.write_bytes(dump(path, actual))
        return
    if not path.is_file():
        pytest.fail(f"{path} is missing: run pytest with --update-golden and review it")
    if load(path) != actual:
        diff = difflib.unified_diff(
            dump(path, load(path)).decode().splitlines(),
            dump(path, actual).decode().splitlines(),
            str(path),
            "actual",
            lineterm="",
        )
        pytest.fail("golden mismatch:\n" + "\n".join(diff), pytrace=False)
