"""Settings precedence: defaults < config file < environment < flags; bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_safe():
    settings = load_settings(environ={})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.upstream == "gemini"
    assert settings.api_keys == ()
    assert settings.client_keys == ()
    assert settings.cors_origins == ()


def test_file_then_env_then_flags(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('[server]\nport = 9000\nhost = "127.0.0.2"\n[state]\nstate = "memory"\n')
    env = {"GATEWAY_PORT": "9100", "GEMINI_API_KEY": "k1, k2", "GATEWAY_API_KEYS": "a,b"}
    settings = load_settings(environ=env, config_file=config, flags={"port": 9200, "host": None})
    assert settings.port == 9200
    assert settings.host == "127.0.0.2"
    assert settings.api_keys == ("k1", "k2")
    assert settings.client_keys == ("a", "b")


def test_gemini_api_key_wins_over_google_api_key():
    settings = load_settings(environ={"GOOGLE_API_KEY": "g", "GEMINI_API_KEY": "m"})
    assert settings.api_keys == ("m",)


def test_the_documented_example_config_loads():
    settings = load_settings(environ={}, config_file=ROOT / "config" / "gateway.toml")
    assert settings.image_limits == ()  # each model family's own limit (translate/families.py)
    assert settings.max_body_bytes == 100 * 1024 * 1024


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_PORT": "eighty"}, "GATEWAY_PORT"),
        ({"GATEWAY_UPSTREAM": "openai"}, "upstream"),
        ({"GOOGLE_GEMINI_BASE_URL": "ftp://x"}, "GOOGLE_GEMINI_BASE_URL"),
        ({"GATEWAY_HISTORY_BUDGET": "maybe"}, "history_budget"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env, message):
    with pytest.raises(ValueError, match=message):
        load_settings(environ=env)


def test_unknown_option_in_file_is_refused(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nprot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(environ={}, config_file=config)


def test_client_keys_without_a_server_key_refuse_to_start():
    """Client keys switch pass-through off: with no server key every call would go to Gemini
    with an empty key, so the half-configured deployment is refused, naming what is missing."""
    with pytest.raises(ValueError, match="GEMINI_API_KEY"):
        load_settings(environ={"GATEWAY_API_KEYS": "sk-client"})


def test_client_keys_on_the_emulator_need_no_server_key():
    settings = load_settings(
        environ={"GATEWAY_API_KEYS": "sk-client", "GATEWAY_UPSTREAM": "emulator"}
    )
    assert settings.client_keys == ("sk-client",)
