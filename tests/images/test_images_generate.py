"""POST /v1/images/generations end to end: the real OpenAI SDK → the gateway → the emulator."""

from __future__ import annotations

import base64
from typing import Any

import anyio
import anyio.lowlevel
import openai
import pytest
from images_helpers import IMAGE_MODEL, opened, upstream_bodies
from openai.types import ImagesResponse

from gateway.serving import images as serving_images
from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio


async def test_one_image_is_a_valid_png_with_usage(stack: Any) -> None:
    client = stack.openai()
    result = await client.images.generate(model=IMAGE_MODEL, prompt="a red fox in the snow")
    assert len(result.data) == 1
    image = opened(result.data[0].b64_json, "PNG")
    assert result.size == f"{image.width}x{image.height}"
    assert result.output_format == "png"
    assert result.data[0].revised_prompt == "Here is your image: a red fox in the snow"
    assert result.data[0].url is None
    assert result.usage.output_tokens_details.image_tokens == 1120
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    (body,) = upstream_bodies(stack)
    assert body["contents"] == [{"role": "user", "parts": [{"text": "a red fox in the snow"}]}]
    assert body["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    assert stack.emulator.requests[0].path.endswith(f"/models/{IMAGE_MODEL}:generateContent")


async def test_raw_response_validates_with_the_openai_type(stack: Any) -> None:
    response = await stack.http().post(
        "/v1/images/generations", json={"prompt": "a lighthouse", "n": 2}
    )
    assert response.status_code == 200
    parsed = ImagesResponse.model_validate(response.json(), strict=True)
    assert parsed.data is not None and len(parsed.data) == 2
    assert set(response.json()) == {"created", "data", "usage", "output_format", "size"}


async def test_n_images_are_n_upstream_calls(stack: Any) -> None:
    client = stack.openai()
    result = await client.images.generate(prompt="three foxes", n=3, size="1792x1024")
    assert len(result.data) == 3
    for item in result.data:
        image = opened(item.b64_json, "PNG")
        assert image.width > image.height
    bodies = upstream_bodies(stack)
    assert len(bodies) == 3
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["generationConfig"]["imageConfig"] == {
        "aspectRatio": "16:9",
        "imageSize": "2K",
    }
    one = await stack.openai().images.generate(prompt="three foxes", size="1792x1024")
    assert result.usage.output_tokens == 3 * one.usage.output_tokens


async def test_ten_images_run_with_bounded_concurrency(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = stack.app.state.services.upstream
    original = upstream.generate
    in_flight = peak = 0

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            for _ in range(3):  # let every other runnable call start before this one ends
                await anyio.lowlevel.checkpoint()
            return await original(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(upstream, "generate", counting)
    result = await stack.openai().images.generate(prompt="many", n=10, size="256x256")
    assert len(result.data) == 10
    assert len(upstream_bodies(stack)) == 10
    assert peak == serving_images.MAX_PARALLEL_CALLS == 4


@pytest.mark.parametrize(
    ("model", "size", "image_config"),
    [
        (IMAGE_MODEL, "1024x1024", {"aspectRatio": "1:1", "imageSize": "1K"}),
        (IMAGE_MODEL, "1024x1536", {"aspectRatio": "2:3", "imageSize": "2K"}),
        (IMAGE_MODEL, "1536x1024", {"aspectRatio": "3:2", "imageSize": "2K"}),
        (IMAGE_MODEL, "1024x1792", {"aspectRatio": "9:16", "imageSize": "2K"}),
        (IMAGE_MODEL, "3000x3000", {"aspectRatio": "1:1", "imageSize": "4K"}),
        ("gemini-3.1-flash-image-preview", "512x512", {"aspectRatio": "1:1", "imageSize": "512"}),
        ("gemini-3.1-flash-image-preview", "2048x512", {"aspectRatio": "4:1", "imageSize": "2K"}),
        ("gemini-2.5-flash-image", "1536x1024", {"aspectRatio": "3:2"}),
    ],
)
async def test_size_reaches_gemini_as_image_config(
    stack: Any, model: str, size: str, image_config: dict[str, str]
) -> None:
    result = await stack.openai().images.generate(model=model, prompt="a boat", size=size)
    (body,) = upstream_bodies(stack)
    assert body["generationConfig"]["imageConfig"] == image_config
    ratio_w, ratio_h = (int(x) for x in image_config["aspectRatio"].split(":"))
    image = opened(result.data[0].b64_json, "PNG")
    assert (image.width > image.height) == (ratio_w > ratio_h)


async def test_quality_and_extensions_through_the_sdk(stack: Any) -> None:
    client = stack.openai()
    await client.images.generate(prompt="hd fox", quality="hd")
    await client.images.generate(
        prompt="wide fox", size="1024x1024", extra_body={"aspect_ratio": "21:9", "image_size": "4K"}
    )
    first, second = upstream_bodies(stack)
    assert first["generationConfig"]["imageConfig"] == {"imageSize": "2K"}
    assert second["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9", "imageSize": "4K"}


async def test_openai_model_ids_mean_the_default_image_model(stack: Any) -> None:
    await stack.openai().images.generate(model="dall-e-3", prompt="a fox", style="vivid")
    assert stack.emulator.requests[0].path.endswith(f"/models/{IMAGE_MODEL}:generateContent")


async def test_url_response_is_hosted_and_served() -> None:
    async with emulator_stack(public_url="http://gateway") as stack:
        result = await stack.openai().images.generate(
            prompt="a hosted fox", n=2, response_format="url"
        )
        assert len(result.data) == 2
        for item in result.data:
            assert item.b64_json is None
            assert item.url.startswith("http://gateway/v1/files/") and item.url.endswith(".png")
            served = await stack.http().get(item.url)
            assert served.status_code == 200
            assert served.headers["content-type"] == "image/png"
            opened(base64.b64encode(served.content).decode(), "PNG")
        assert len(upstream_bodies(stack)) == 2


async def test_url_without_public_url_is_a_400_before_any_upstream_call(stack: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.generate(prompt="a fox", response_format="url")
    assert "GATEWAY_PUBLIC_URL" in caught.value.message
    assert caught.value.body["param"] == "response_format"
    assert stack.emulator.requests == []


@pytest.mark.parametrize(
    ("directive", "code", "reason"),
    [
        ("#no_image", "no_image", "NO_IMAGE"),
        ("#image_safety", "content_policy_violation", "IMAGE_SAFETY"),
        ("#blocked", "content_policy_violation", "PROHIBITED_CONTENT"),
    ],
)
async def test_no_image_replies_are_openai_errors(
    stack: Any, directive: str, code: str, reason: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.generate(prompt=f"a fox {directive}")
    assert caught.value.status_code == 400
    assert caught.value.code == code
    assert reason in caught.value.message
    assert len(upstream_bodies(stack)) == 1


async def test_partial_failure_returns_the_images_that_succeeded(stack: Any) -> None:
    stack.emulator.queue_fault("status:403")
    result = await stack.openai().images.generate(prompt="some foxes", n=3)
    assert len(result.data) == 2
    for item in result.data:
        opened(item.b64_json, "PNG")
    assert len(stack.emulator.requests) == 3


async def test_when_every_call_fails_the_first_error_is_the_answer(stack: Any) -> None:
    stack.emulator.queue_fault("status:403", count=2)
    with pytest.raises(openai.PermissionDeniedError):
        await stack.openai().images.generate(prompt="two foxes", n=2)
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.generate(prompt="two foxes #no_image", n=2)
    assert caught.value.code == "no_image"


async def test_non_image_model_is_a_400_naming_the_image_models(stack: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await stack.openai().images.generate(model="gemini-2.5-flash", prompt="a fox")
    assert "gemini-3-pro-image-preview" in caught.value.message
    assert "gemini-2.5-flash-image" in caught.value.message
    assert caught.value.body["param"] == "model"
    assert stack.emulator.requests == []


async def test_missing_prompt_and_bad_body(stack: Any) -> None:
    http = stack.http()
    response = await http.post("/v1/images/generations", json={"n": 1})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
    response = await http.post("/v1/images/generations", json=["a fox"])
    assert response.status_code == 400
    response = await http.post("/v1/images/generations", json={"prompt": "x", "size": "1:3"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "size"
    assert stack.emulator.requests == []


@pytest.mark.parametrize(("fmt", "pil_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_output_format_converts_with_pillow(stack: Any, fmt: str, pil_format: str) -> None:
    result = await stack.openai().images.generate(
        prompt="a fox", output_format=fmt, output_compression=80
    )
    assert result.output_format == fmt
    image = opened(result.data[0].b64_json, pil_format)
    assert result.size == f"{image.width}x{image.height}"


async def test_without_pillow_the_real_format_is_reported(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving_images, "pillow", lambda: None)
    result = await stack.openai().images.generate(prompt="a fox", output_format="jpeg")
    assert result.output_format == "png"
    opened(result.data[0].b64_json, "PNG")
    assert result.size is None
