"""The native routes' end-to-end stack: the emulator and the gateway each on a real loopback
socket (the gateway reaching the emulator over its production aiohttp wire), plus google-genai
clients bound to the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import types

from gateway.app import build_app
from gateway.emulator.app import EmulatorState, build_emulator_app
from tests.conftest import make_settings
from tests.hardening.loopback import serve

SERVER_KEY = "server-key-1"
CLIENT_KEY = "client-key-1"


@dataclass
class NativeStack:
    url: str
    emulator: EmulatorState

    def client(self, api_version: str = "v1beta", api_key: str = CLIENT_KEY) -> genai.Client:
        options = types.HttpOptions(base_url=self.url, api_version=api_version)
        return genai.Client(api_key=api_key, http_options=options)


@contextmanager
def native_stack(**settings: Any) -> Iterator[NativeStack]:
    """`settings` override the defaults: server key SERVER_KEY, client key CLIENT_KEY."""
    emulator_app = build_emulator_app()
    with serve(emulator_app) as emulator_url:
        options: dict[str, Any] = {
            "upstream": "gemini",
            "base_url": emulator_url,
            "api_keys": (SERVER_KEY,),
            "client_keys": (CLIENT_KEY,),
            "keepalive_interval": 5.0,
            "max_retries": 0,
        }
        options.update(settings)
        app = build_app(make_settings(**options))
        with serve(app) as url:
            yield NativeStack(url, emulator_app.state.emulator)
