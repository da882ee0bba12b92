"""The model-family table: every row is reachable (none hidden by an earlier one) and the
known models get the rules the rest of the gateway relies on."""

from __future__ import annotations

import pytest

from gateway.translate.families import FAMILIES, IMAGE_MODELS, family_of


@pytest.mark.parametrize("row", FAMILIES, ids=lambda f: f"{f.prefix or '*'}:{f.image}")
def test_every_row_is_the_answer_for_its_own_prefix(row):
    name = row.prefix + ("-x-image" if row.image and "image" not in row.prefix else "-x")
    assert family_of(name) is row


@pytest.mark.parametrize(
    ("model", "thinking", "strict", "signed_images", "images", "tokens"),
    [
        ("gemini-3-pro-image-preview", None, True, True, 14, 65_536),
        ("gemini-3.1-flash-image-preview", None, True, True, 14, 65_536),
        ("gemini-2.5-flash-image", None, False, False, 3, 32_768),
        ("gemini-3-pro-preview", "level", True, False, 14, 1_048_576),
        ("gemini-3-flash-preview", "level", True, False, 14, 1_048_576),
        ("gemini-2.5-pro", "budget", False, False, 14, 1_048_576),
        ("gemini-2.5-flash-lite", "budget", False, False, 14, 1_048_576),
        ("gemini-2.0-flash", None, False, False, 14, 1_048_576),
        ("gemma-3-27b-it", None, False, False, 14, 1_048_576),
    ],
)
def test_known_models(model, thinking, strict, signed_images, images, tokens):
    family = family_of(model)
    assert family.thinking == thinking
    assert family.strict_signatures is strict
    assert family.signed_image_turns is signed_images
    assert family.image_limit == images
    assert family.input_token_limit == tokens


def test_the_image_models_named_to_clients_are_image_families():
    assert all(family_of(model).image for model in IMAGE_MODELS)
    assert family_of("gemini-2.5-flash-image").image_sizes == frozenset()
    assert "512" in family_of("gemini-3.1-flash-image-preview").image_sizes
    assert family_of("gemini-2.5-pro").budget_range == (128, 32_768)
    assert family_of("gemini-3.1-pro-preview").levels["none"] == "LOW"
    assert family_of("gemini-3-flash-preview").levels["none"] == "MINIMAL"
