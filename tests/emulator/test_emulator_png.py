"""The PNG encoder: valid files (checked by Pillow), sizes, and content that follows its inputs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gateway.emulator.png import decode_png_size, encode_png, image_dimensions, render_image


def test_encoded_png_is_valid_and_exact() -> None:
    rows = [bytes([0, y * 10, 0]) for y in range(2)]  # 1 px wide, 2 rows
    data = encode_png(1, 2, rows)
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data))
    assert image.size == (1, 2) and image.mode == "RGB"
    assert image.getpixel((0, 1)) == (0, 10, 0)
    assert decode_png_size(data) == (1, 2)


def test_encode_rejects_bad_rows() -> None:
    with pytest.raises(ValueError):
        encode_png(2, 1, [b"\x00" * 3])


def test_decode_rejects_non_png() -> None:
    with pytest.raises(ValueError):
        decode_png_size(b"GIF89a" + b"\x00" * 30)


@pytest.mark.parametrize(
    ("ratio", "size", "expected"),
    [
        ("1:1", "1K", (64, 64)),
        ("4:3", "2K", (128, 96)),
        ("3:4", "4K", (128, 171)),
        ("8:1", "512", (384, 48)),
        ("bad", "1K", (64, 64)),
    ],
)
def test_image_dimensions(ratio: str, size: str, expected: tuple[int, int]) -> None:
    assert image_dimensions(ratio, size) == expected


def test_render_depends_on_texts_bands_and_swatches() -> None:
    base = render_image(64, 64, texts=["a"], bands=0, swatches=[])
    assert base == render_image(64, 64, texts=["a"], bands=0, swatches=[])
    variants = [
        render_image(64, 64, texts=["b"], bands=0, swatches=[]),
        render_image(64, 64, texts=["a"], bands=1, swatches=[]),
        render_image(64, 64, texts=["a"], bands=0, swatches=["QUJD"]),
        render_image(64, 64, texts=["a"], bands=0, swatches=[], draft=True),
    ]
    assert len({base, *variants}) == 5
    for data in variants:
        Image.open(io.BytesIO(data)).verify()
    grey = Image.open(io.BytesIO(variants[-1])).getpixel((0, 0))
    assert isinstance(grey, tuple) and grey[0] == grey[1] == grey[2]
