"""media/downsample.py: real images shrunk to the size the policy picked, in their own format;
anything it cannot decode is left alone, and without Pillow nothing is shrunk."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from gateway.media import downsample
from gateway.translate.budget import ImageRef
from gateway.translate.token_estimate import image_size

MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def ref(data: str, mime: str, size: tuple[int, int], target: tuple[int, int]) -> ImageRef:
    return ImageRef(content=1, part=0, mime_type=mime, data=data, size=size, target=target)


def encoded(size: tuple[int, int], fmt: str, mode: str = "RGB") -> str:
    image = Image.new(mode, size, (30, 120, 200, 255)[: len(mode)])
    for x in range(0, size[0], 7):  # some detail, so the resize has work to do
        image.putpixel((x, x % size[1]), (250, 250, 0, 255)[: len(mode)])
    out = io.BytesIO()
    image.save(out, format=fmt)
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_shrinks_to_the_target_in_the_same_format(fmt: str) -> None:
    data = encoded((1376, 768), fmt)
    done = downsample.shrink(ref(data, MIME[fmt], (1376, 768), (688, 384)))
    assert done is not None
    assert done.mime_type == MIME[fmt]
    assert done.size == (688, 384)
    assert image_size(done.data) == (688, 384)
    with Image.open(io.BytesIO(base64.b64decode(done.data))) as image:
        assert image.format == fmt
        assert image.size == (688, 384)
    assert len(done.data) < len(data)


def test_a_png_with_alpha_keeps_it() -> None:
    data = encoded((900, 900), "PNG", mode="RGBA")
    done = downsample.shrink(ref(data, "image/png", (900, 900), (450, 450)))
    assert done is not None
    with Image.open(io.BytesIO(base64.b64decode(done.data))) as image:
        assert image.mode == "RGBA"


def test_url_safe_base64_is_accepted() -> None:
    data = encoded((800, 800), "PNG").replace("+", "-").replace("/", "_")
    assert downsample.shrink(ref(data, "image/png", (800, 800), (400, 400))) is not None


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode(), "image/png"),
        (encoded((800, 800), "PNG"), "image/jpeg"),  # mislabelled: decoded only as what it claims
        (encoded((800, 800), "PNG"), "image/heic"),  # a type Pillow is not asked to write
        ("%%%%", "image/png"),
    ],
)
def test_what_cannot_be_shrunk_is_left_alone(data: str, mime: str) -> None:
    assert downsample.shrink(ref(data, mime, (800, 800), (400, 400))) is None


def test_oversized_claims_are_refused_before_decoding() -> None:
    data = encoded((16, 16), "PNG")
    assert downsample.shrink(ref(data, "image/png", (10_000, 10_000), (768, 768))) is None


def test_shrink_all_keys_results_by_position_and_skips_failures() -> None:
    good = ref(encoded((1000, 500), "PNG"), "image/png", (1000, 500), (500, 250))
    bad = ImageRef(3, 1, "image/png", "AAAA", (1000, 500), (500, 250))
    done = downsample.shrink_all((good, bad))
    assert set(done) == {(1, 0)}
    assert done[(1, 0)].size == (500, 250)


def test_without_pillow_nothing_is_shrunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downsample, "AVAILABLE", False)
    assert not downsample.available()
    data = encoded((1000, 1000), "PNG")
    assert downsample.shrink(ref(data, "image/png", (1000, 1000), (500, 500))) is None


def test_a_broken_pillow_install_leaves_images_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ImportError("libjpeg.so.62: cannot open shared object file")

    monkeypatch.setattr(downsample, "_pillow", broken)
    data = encoded((1000, 1000), "PNG")
    assert downsample.shrink(ref(data, "image/png", (1000, 1000), (500, 500))) is None


def test_the_same_image_is_resized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversation resends its older images every turn; the shrunk bytes are reused."""
    calls: list[ImageRef] = []
    resize = downsample._resize

    def counting(image: ImageRef) -> downsample.Shrunk | None:
        calls.append(image)
        return resize(image)

    monkeypatch.setattr(downsample, "_resize", counting)
    monkeypatch.setattr(downsample, "CACHE", downsample.ShrunkCache(1024 * 1024))
    image = ref(encoded((1200, 800), "PNG"), "image/png", (1200, 800), (600, 400))
    first = downsample.shrink(image)
    again = downsample.shrink(image)
    other_target = downsample.shrink(ref(image.data, "image/png", (1200, 800), (768, 512)))
    assert first is not None and first == again
    assert other_target is not None and other_target.size == (768, 512)
    assert len(calls) == 2


def test_the_cache_is_bounded_by_what_it_holds() -> None:
    cache = downsample.ShrunkCache(max_bytes=100)
    for n in range(5):
        cache.put(bytes([n]), downsample.Shrunk("image/png", "x" * 40, (1, 1)))
    assert cache.size == 80
    assert [key[0] for key in cache.items] == [3, 4]
    assert cache.get(bytes([0])) is None and cache.get(bytes([4])) is not None
    cache.put(b"huge", downsample.Shrunk("image/png", "x" * 101, (1, 1)))
    assert b"huge" not in cache.items
