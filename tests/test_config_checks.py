"""Configuration that cannot be wrong silently: each rule refuses with the variable named, and the
CLI turns any configuration error into one line on stderr and exit code 2."""

from __future__ import annotations

import pytest

from gateway.cli import main
from gateway.config import load_settings


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GATEWAY_FILES_REQUIRE_AUTH": "ture"}, "GATEWAY_FILES_REQUIRE_AUTH: cannot parse 'ture'"),
        ({"GATEWAY_METRICS": "enabled"}, "GATEWAY_METRICS"),
        (
            {"GATEWAY_TOTAL_TIMEOUT": "-5"},
            "GATEWAY_TOTAL_TIMEOUT (total_timeout) must be greater than 0",
        ),
        (
            {"GATEWAY_READ_TIMEOUT": "0"},
            "GATEWAY_READ_TIMEOUT (read_timeout) must be greater than 0",
        ),
        ({"GATEWAY_MAX_RETRIES": "-1"}, "GATEWAY_MAX_RETRIES (max_retries) must not be negative"),
        ({"GATEWAY_PORT": "0"}, "GATEWAY_PORT (port) must be a port number"),
        # inf: the first readiness result cached for good (a failed first probe: 503 forever)
        (
            {"GATEWAY_READY_CACHE_SECONDS": "inf"},
            "GATEWAY_READY_CACHE_SECONDS (ready_cache_seconds) must be a finite number",
        ),
        # nan passed "must not be negative": every retry's wait then exceeded it (no retries)
        (
            {"GATEWAY_RETRY_MAX_WAIT": "nan"},
            "GATEWAY_RETRY_MAX_WAIT (retry_max_wait) must be a finite number",
        ),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT (port) must be a port number"),
        ({"GATEWAY_LOG_LEVEL": "verbose"}, "GATEWAY_LOG_LEVEL must be one of debug, info"),
        (
            {"GATEWAY_STATE": "postgres://db/x"},
            "GATEWAY_STATE='postgres://db/x' is not a state URL",
        ),
        ({"GATEWAY_STATE": "sqlite:///"}, "has no file path"),
        ({"GATEWAY_STATE": "sqlite:////no/such/folder/x.db"}, "the folder /no/such/folder"),
    ],
)
def test_bad_values_name_their_variable(env, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=env)


@pytest.mark.parametrize(
    ("raw", "value"), [("TRUE", True), ("on", True), ("0", False), ("No", False)]
)
def test_documented_boolean_spellings(raw, value):
    assert load_settings(environ={"GATEWAY_METRICS": raw}).metrics is value


def test_log_level_in_capitals_is_fine():
    assert load_settings(environ={"GATEWAY_LOG_LEVEL": "DEBUG"}).log_level == "DEBUG"


def test_sqlite_paths_relative_and_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={"GATEWAY_STATE": "sqlite:///state.db"}).state.endswith("state.db")
    absolute = f"sqlite:///{tmp_path}/abs.db"  # four slashes in all
    assert load_settings(environ={"GATEWAY_STATE": absolute}).state == absolute


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[upstream]\nread_timout = 5\n", "did you mean 'read_timeout'"),
        (
            '[files]\nfiles_require_auth = "ture"\n',
            "files_require_auth in .* must be true or false",
        ),
        ('[server]\nport = "8080"\n', "port in .* must be a number"),
        ("[server\nport = 1\n", "not valid TOML"),
    ],
)
def test_file_mistakes_are_named(tmp_path, text, expected):
    config = tmp_path / "gateway.toml"
    config.write_text(text)
    with pytest.raises(ValueError, match=expected):
        load_settings(environ={}, config_file=config)


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["serve", "--config", "/no/such/gateway.toml"], {}, "cannot read the config file"),
        (["serve"], {"GATEWAY_FILES_REQUIRE_AUTH": "ture"}, "GATEWAY_FILES_REQUIRE_AUTH"),
        (["serve"], {"GATEWAY_STATE": "mongodb://x"}, "not a state URL"),
        (["healthcheck"], {"GATEWAY_PORT": "http"}, "GATEWAY_PORT"),
    ],
)
def test_cli_says_one_line_and_exits_2(argv, env, expected, monkeypatch, capsys):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_gateway_variables_are_named_with_the_nearest_setting():
    from gateway.config import KNOWN_VARIABLES
    from gateway.config_checks import unknown_variables

    environ = {
        "GATEWAY_LOG_LEVL": "debug",  # a typo: warned, with the setting it meant
        "GATEWAY_LOG_LEVEL": "info",  # known
        "GATEWAY_CONFIG": "x.toml",  # known, read outside Settings
        "GATEWAY_SERVICE_HOST": "10.0.0.1",  # Kubernetes' own for a service named gateway
        "GATEWAY_PORT_8080_TCP_ADDR": "10.0.0.1",
        "HOME": "/root",
    }
    assert unknown_variables(environ, KNOWN_VARIABLES) == [
        "GATEWAY_LOG_LEVL is not a gateway setting and is ignored "
        "(did you mean 'GATEWAY_LOG_LEVEL'?)"
    ]


def test_serve_warns_about_a_mistyped_variable(monkeypatch, caplog):
    from gateway import cli

    class Idle:
        def __init__(self, config, app):
            pass

        def run(self):
            return None

    monkeypatch.setattr(cli, "server", Idle)
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    monkeypatch.setenv("GATEWAY_HISTORY_BUDGT", "auto")
    with caplog.at_level("WARNING", logger="gateway"):
        assert main(["serve", "--emulator"]) == 0
    assert "GATEWAY_HISTORY_BUDGT is not a gateway setting" in caplog.text
    assert "GATEWAY_HISTORY_BUDGET" in caplog.text
