"""POST /v1/images/edits end to end: multipart built by the real OpenAI SDK from in-memory
Pillow images, parsed by the gateway, inlined for Gemini in upload order."""

from __future__ import annotations

import base64
import io
from typing import Any

import openai
import pytest
from images_helpers import (
    IMAGE_MODEL,
    inline_parts,
    mask_bytes,
    opened,
    png_bytes,
    upload,
    upstream_bodies,
)
from PIL import Image

from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]


def swatch_count(image: Image.Image) -> int:
    """Distinct non-background colours along the second row (the emulator draws one square per
    reference image there, left to right)."""
    background = image.getpixel((0, 0))
    row = {image.getpixel((x, 1)) for x in range(image.width)}
    return len(row - {background})


async def test_edit_one_image(stack: Any) -> None:
    source = png_bytes()
    result = await stack.openai().images.edit(
        model=IMAGE_MODEL, image=upload("fox.png", source), prompt="make it night"
    )
    assert len(result.data) == 1
    opened(result.data[0].b64_json, "PNG")
    (request,) = stack.emulator.requests
    parts = request.body["contents"][0]["parts"]
    assert parts[0] == {"text": "make it night"}
    assert inline_parts(request.body) == [
        {"mimeType": "image/png", "data": base64.b64encode(source).decode()}
    ]
    assert result.usage.input_tokens_details.image_tokens > 0


async def test_edit_three_images_in_upload_order(stack: Any) -> None:
    sources = [png_bytes(c) for c in COLOURS[:3]]
    result = await stack.openai().images.edit(
        image=[upload(f"in{i}.png", data) for i, data in enumerate(sources)],
        prompt="put them together",
        n=2,
        size="1024x1536",
    )
    assert len(result.data) == 2
    image = opened(result.data[0].b64_json, "PNG")
    assert swatch_count(image) == 3
    bodies = [r.body for r in stack.emulator.requests]
    assert len(bodies) == 2
    sent = [base64.b64decode(p["data"]) for p in inline_parts(bodies[0])]
    assert sent == sources
    assert bodies[0]["generationConfig"]["imageConfig"] == {"aspectRatio": "2:3", "imageSize": "2K"}
    plain = await stack.openai().images.generate(prompt="no references")
    assert swatch_count(opened(plain.data[0].b64_json, "PNG")) == 0


async def test_jpeg_and_webp_uploads_are_sniffed_not_trusted(stack: Any) -> None:
    jpeg = Image.new("RGB", (8, 8), (10, 20, 30))
    webp = Image.new("RGB", (8, 8), (10, 20, 30))
    jpeg_out, webp_out = io.BytesIO(), io.BytesIO()
    jpeg.save(jpeg_out, "JPEG")
    webp.save(webp_out, "WEBP")
    await stack.openai().images.edit(
        image=[
            upload("a.png", jpeg_out.getvalue(), "image/png"),
            upload("b.bin", webp_out.getvalue(), "application/octet-stream"),
        ],
        prompt="blend",
    )
    (request,) = stack.emulator.requests
    assert [p["mimeType"] for p in inline_parts(request.body)] == ["image/jpeg", "image/webp"]


async def test_fifteen_images_exceed_the_limit_of_fourteen(stack: Any) -> None:
    images = [upload(f"{i}.png", png_bytes((i * 10, 0, 0))) for i in range(15)]
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(image=images, prompt="too many")
    assert "at most 14" in caught.value.message and "has 15" in caught.value.message
    assert caught.value.code == "too_many_images"
    assert stack.emulator.requests == []
    result = await stack.openai().images.edit(image=images[:14], prompt="just enough")
    assert len(result.data) == 1
    assert len(inline_parts(stack.emulator.requests[0].body)) == 14


async def test_25_flash_image_takes_three(stack: Any) -> None:
    images = [upload(f"{i}.png", png_bytes()) for i in range(4)]
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(
            model="gemini-2.5-flash-image", image=images, prompt="four"
        )
    assert "at most 3" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(
            model="gemini-2.5-flash-image",
            image=images[:3],
            mask=upload("mask.png", mask_bytes()),
            prompt="three and a mask",
        )
    assert "mask counts" in caught.value.message
    assert stack.emulator.requests == []


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"image": upload("notes.png", b"just some text, not an image")}, "image"),
        (
            {
                "image": [upload("a.png", png_bytes()), upload("b.png", b"%PDF-1.7 not an image")],
            },
            "image[]",
        ),
        ({"image": upload("a.png", png_bytes()), "mask": upload("m.png", b"nope")}, "mask"),
    ],
)
async def test_non_image_upload_is_a_400_naming_the_field(
    stack: Any, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(prompt="edit", **kwargs)
    assert caught.value.body["param"] == param
    assert f"'{param}' is not an image" in caught.value.message
    assert stack.emulator.requests == []


async def test_gif_upload_is_refused_with_a_hint(stack: Any) -> None:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "GIF")
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(image=upload("a.gif", out.getvalue()), prompt="x")
    assert "image/gif" in caught.value.message and "convert" in caught.value.message


async def test_mask_goes_after_the_images_behind_an_instruction(stack: Any) -> None:
    source, mask = png_bytes(), mask_bytes()
    await stack.openai().images.edit(
        image=upload("fox.png", source), mask=upload("mask.png", mask), prompt="add a hat"
    )
    (request,) = stack.emulator.requests
    parts = request.body["contents"][0]["parts"]
    assert [next(iter(p)) for p in parts] == ["text", "inlineData", "text", "inlineData"]
    assert parts[0]["text"] == "add a hat"
    assert "mask" in parts[2]["text"] and "transparent" in parts[2]["text"]
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == source
    assert base64.b64decode(parts[3]["inlineData"]["data"]) == mask


async def test_edit_url_response() -> None:
    async with emulator_stack(public_url="http://gateway") as stack:
        result = await stack.openai().images.edit(
            image=upload("fox.png", png_bytes()), prompt="night", response_format="url"
        )
        served = await stack.http().get(result.data[0].url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        opened(base64.b64encode(served.content).decode(), "PNG")
        assert len(upstream_bodies(stack)) == 1


async def test_edit_refusal_is_an_error(stack: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.edit(
            image=upload("a.png", png_bytes()), prompt="x #image_safety"
        )
    assert caught.value.code == "content_policy_violation"


async def test_edit_needs_multipart_and_an_image(stack: Any) -> None:
    http = stack.http()
    response = await http.post("/v1/images/edits", json={"prompt": "x"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]["message"]
    response = await http.post("/v1/images/edits", data={"prompt": "x"}, files={"other": b"1"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "image"
    response = await http.post(
        "/v1/images/edits", data={"prompt": "x", "image": "not a file"}, files={"z": b"1"}
    )
    assert response.status_code == 400
    assert "must be an uploaded file" in response.json()["error"]["message"]
    response = await http.post(
        "/v1/images/edits",
        content=b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert stack.emulator.requests == []


async def test_indexed_and_repeated_image_fields(stack: Any) -> None:
    """`image[0]`, `image[1]` (indices) and bare repeated `image` both count as images."""
    a, b = png_bytes(COLOURS[0]), png_bytes(COLOURS[1])
    files = [("image[0]", ("a.png", a, "image/png")), ("image[1]", ("b.png", b, "image/png"))]
    response = await stack.http().post("/v1/images/edits", data={"prompt": "x"}, files=files)
    assert response.status_code == 200, response.text
    files = [("image", ("a.png", a, "image/png")), ("image", ("b.png", b, "image/png"))]
    response = await stack.http().post(
        "/v1/images/edits", data={"prompt": "x", "n": "1"}, files=files
    )
    assert response.status_code == 200
    for request in stack.emulator.requests:
        assert [base64.b64decode(p["data"]) for p in inline_parts(request.body)] == [a, b]


async def test_body_over_the_limit_is_a_413() -> None:
    async with emulator_stack(max_body_bytes=4096) as stack:
        big = png_bytes(size=(256, 256)) + b"\0" * 8192
        with pytest.raises(openai.APIStatusError) as caught:
            await stack.openai().images.edit(image=upload("big.png", big), prompt="x")
        assert caught.value.status_code == 413
        assert stack.emulator.requests == []
