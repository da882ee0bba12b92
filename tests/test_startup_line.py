"""The start-up line: how the gateway runs, at a glance, and never a secret."""

from __future__ import annotations

import logging

import orjson

from gateway.logs import JsonFormatter
from gateway.startup_line import describe
from tests.conftest import make_settings


def test_server_keys_and_state_without_their_secrets():
    settings = make_settings(
        upstream="gemini",
        api_keys=("AIza-secret-1", "AIza-secret-2"),
        client_keys=("client-secret",),
        state="redis://:hunter2@127.0.0.1:6379/0",
        history_budget="trim",
    )
    line = describe(settings)
    assert line["upstream_mode"] == "server keys (2)"
    assert line["client_keys"] == "on (1)"
    assert line["state"] == "redis://127.0.0.1:6379/0"
    assert line["history_budget"] == "trim"
    text = str(line)
    assert "secret" not in text and "hunter2" not in text


def test_pass_through_and_emulator_modes():
    assert describe(make_settings(upstream="gemini"))["upstream_mode"].startswith("pass-through")
    assert describe(make_settings())["upstream_mode"] == "emulator"


def test_json_lines_have_an_iso_time_and_no_colour_codes():
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started", None, None)
    record.color_message = "\x1b[32mStarted\x1b[0m"
    entry = orjson.loads(JsonFormatter().format(record))
    assert "color_message" not in entry and "\x1b" not in orjson.dumps(entry).decode()
    assert entry["time"].endswith("Z") and entry["time"][10] == "T"
