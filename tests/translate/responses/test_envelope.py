"""The reasoning envelope: what it carries comes back only with the secret that sealed it."""

from __future__ import annotations

from gateway.translate.responses.envelope import Opened, _mac, open_envelope, seal

LAYOUT = [{"t": "abc", "s": "c2ln"}, {"i": "def", "mt": "image/png", "s": "x" * 200_000}]


def test_sealed_layout_opens_byte_for_byte() -> None:
    token = seal(LAYOUT, model="m", backend="gemini", secret=b"k")
    assert token.startswith("ggw1.")
    assert open_envelope(token, b"k") == Opened("m", "gemini", LAYOUT)


def test_another_secret_or_an_edit_is_forged() -> None:
    token = seal(LAYOUT, model="m", backend="gemini", secret=b"k")
    assert open_envelope(token, b"other") == "forged"
    head, _, mac = token.rpartition(".")
    edited = head[:-2] + ("AA" if head[-2:] != "AA" else "BB") + "." + mac
    assert open_envelope(edited, b"k") == "forged"


def test_foreign_and_malformed_content() -> None:
    assert open_envelope("gAAAAABo-openai-encrypted", b"k") == "foreign"
    assert open_envelope(None, b"k") == "foreign"
    assert open_envelope("ggw1.nodots", b"k") == "forged"
    head = "ggw1.bm90IGpzb24"  # base64url of "not json", correctly signed
    assert open_envelope(f"{head}.{_mac(b'k', head)}", b"k") == "malformed"
