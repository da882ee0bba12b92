"""The glibc heap settings are taken where glibc is, and are a no-op elsewhere."""

from __future__ import annotations

import platform

import pytest

from gateway import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_takes_the_large_block_settings():
    assert heap.keep_large_blocks() is True
    heap.trim()  # returns memory; must not raise


def test_without_libc_both_are_harmless(monkeypatch):
    monkeypatch.setattr(heap, "_LIBC", None)
    assert heap.keep_large_blocks() is False
    heap.trim()
