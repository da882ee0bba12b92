"""Which credential scopes a caller's remembered state (auth.scope_credential, design.md)."""

from __future__ import annotations

from gateway.auth import scope_credential
from gateway.config import Settings

BEARER = {"authorization": "Bearer sk-caller"}


def test_client_keys_scope_by_the_client_key() -> None:
    settings = Settings(client_keys=("sk-caller",), api_keys=("server",))
    assert scope_credential(settings, BEARER) == "sk-caller"


def test_pass_through_scopes_by_the_callers_own_gemini_key() -> None:
    assert scope_credential(Settings(), {"x-goog-api-key": "AIza-own"}) == "AIza-own"


def test_server_keys_without_client_keys_share_one_scope() -> None:
    assert scope_credential(Settings(api_keys=("server",)), BEARER) is None
    assert scope_credential(Settings(upstream="emulator"), {}) is None
