"""Bad request bodies → 400 naming the culprit (`param`), before any upstream call."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidRequestError
from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.turn_view import ViewOptions

PNG_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQImWNwav0CAALIAbzDqqRyAAAAAElFTkSuQmCC"
USER = [{"role": "user", "content": "hi"}]


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gemini-2.5-flash", "messages": USER, **fields}


def user_parts(*parts: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


def images(n: int) -> list[dict[str, Any]]:
    image = {"type": "image_url", "image_url": {"url": PNG_URL}}
    return user_parts({"type": "text", "text": "Combine these."}, *[image] * n)


def translate(raw: Any) -> dict[str, Any]:
    chat = parse_chat_request(raw)
    return to_gemini_request(chat, Resolved(), ViewOptions()).body


BAD_BODIES: dict[str, tuple[Any, str]] = {
    "body is a list": ([], "body"),
    "body is a string": ("hello", "body"),
    "model missing": ({"messages": USER}, "model"),
    "model blank": (body(model="  "), "model"),
    "messages missing": ({"model": "gemini-2.5-flash"}, "messages"),
    "messages empty": (body(messages=[]), "messages"),
    "messages not a list": (body(messages="hi"), "messages"),
    "message not an object": (body(messages=["hi"]), "messages[0]"),
    "content a number": (body(messages=[{"role": "user", "content": 5}]), "messages[0].content"),
    "user content null": (
        body(messages=[{"role": "user", "content": None}]),
        "messages[0].content",
    ),
    "unknown role": (body(messages=[{"role": "bot", "content": "x"}]), "messages[0].role"),
    "role a list": (body(messages=[{"role": ["user"], "content": "x"}]), "messages[0].role"),
    "unknown part type": (
        body(messages=user_parts({"type": "video_url", "video_url": "x"})),
        "messages[0].content[0].type",
    ),
    "part type a list": (
        body(messages=user_parts({"type": ["text"]})),
        "messages[0].content[0].type",
    ),
    "refusal part from a user": (
        body(messages=user_parts({"type": "refusal", "refusal": "no"})),
        "messages[0].content[0].type",
    ),
    "text part without text": (
        body(messages=user_parts({"type": "text"})),
        "messages[0].content[0].text",
    ),
    "image part without url": (
        body(messages=user_parts({"type": "image_url", "image_url": {}})),
        "messages[0].content[0].image_url.url",
    ),
    "tool message without id": (
        body(messages=[*USER, {"role": "tool", "content": "x"}]),
        "messages[1].tool_call_id",
    ),
    "tool_calls not a list": (
        body(messages=[*USER, {"role": "assistant", "tool_calls": {}}]),
        "messages[1].tool_calls",
    ),
    "temperature a string": (body(temperature="1"), "temperature"),
    "temperature a bool": (body(temperature=True), "temperature"),
    "temperature above 2": (body(temperature=2.5), "temperature"),
    "temperature below 0": (body(temperature=-0.1), "temperature"),
    "top_p above 1": (body(top_p=1.5), "top_p"),
    "presence_penalty below -2": (body(presence_penalty=-3), "presence_penalty"),
    "max_tokens a float": (body(max_tokens=1.5), "max_tokens"),
    "max_completion_tokens zero": (body(max_completion_tokens=0), "max_completion_tokens"),
    "n zero": (body(n=0), "n"),
    "n nine": (body(n=9), "n"),
    "seed beyond int32": (body(seed=2**31), "seed"),
    "top_logprobs 21": (body(top_logprobs=21), "top_logprobs"),
    "stop six sequences": (body(stop=["a", "b", "c", "d", "e", "f"]), "stop"),
    "stop a number": (body(stop=5), "stop"),
    "response_format unknown type": (body(response_format={"type": "xml"}), "response_format.type"),
    "response_format a string": (body(response_format="json"), "response_format.type"),
    "response_format type a list": (
        body(response_format={"type": ["text"]}),
        "response_format.type",
    ),
    "json_schema without object": (
        body(response_format={"type": "json_schema", "json_schema": "x"}),
        "response_format.json_schema",
    ),
    "reasoning_effort unknown": (body(reasoning_effort="max"), "reasoning_effort"),
    "reasoning_effort a list": (body(reasoning_effort=["low"]), "reasoning_effort"),
    "modalities unknown": (body(modalities=["video"]), "modalities"),
    "modalities a string": (body(modalities="image"), "modalities"),
    "stream a string": (body(stream="yes"), "stream"),
    "stream_options a list": (body(stream_options=[]), "stream_options"),
    "google a string": (body(google="x"), "google"),
    "extra_body a string": (body(extra_body="x"), "extra_body"),
    "extra_body.google a list": (body(extra_body={"google": []}), "extra_body.google"),
    "image_config a string": (body(image_config="16:9"), "image_config"),
}


@pytest.mark.parametrize(("raw", "param"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_body_is_a_400_naming_the_field(raw: Any, param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        translate(raw)
    assert caught.value.status == 400
    assert caught.value.param == param


BAD_IMAGES: dict[str, tuple[dict[str, Any], str, str]] = {
    "data URL without base64": (
        body(
            messages=user_parts({"type": "image_url", "image_url": {"url": "data:image/png,abc"}})
        ),
        "messages[0].content[0].image_url.url",
        "data:<mime>;base64,<payload>",
    ),
    "data URL with a bad payload": (
        body(messages=user_parts({"type": "image_url", "image_url": "data:image/png;base64,!!"})),
        "messages[0].content[0].image_url.url",
        "data:<mime>;base64,<payload>",
    ),
    "ftp URL": (
        body(messages=user_parts({"type": "image_url", "image_url": {"url": "ftp://x/y.png"}})),
        "messages[0].content[0].image_url.url",
        "gs://",
    ),
    "image_size lowercase": (
        body(model="gemini-3-pro-image-preview", image_config={"image_size": "2k"}),
        "image_config.image_size",
        'did you mean "2K"?',
    ),
    "image_size as a list": (
        body(model="gemini-3-pro-image-preview", image_config={"image_size": ["2K"]}),
        "image_config.image_size",
        "1K, 2K, 4K",
    ),
    "image_size 512 on 3 Pro Image": (
        body(model="gemini-3-pro-image-preview", google={"image_config": {"image_size": "512"}}),
        "image_config.image_size",
        "1K, 2K, 4K",
    ),
    "aspect ratio 7:3": (
        body(model="gemini-3-pro-image-preview", image_config={"aspect_ratio": "7:3"}),
        "image_config.aspect_ratio",
        "16:9",
    ),
    "aspect ratio 8:1 before 3.1 Flash Image": (
        body(model="gemini-3-pro-image-preview", imageConfig={"aspectRatio": "8:1"}),
        "image_config.aspect_ratio",
        "21:9",
    ),
    "aspect ratio as a list": (
        body(model="gemini-3-pro-image-preview", image_config={"aspect_ratio": ["1:1"]}),
        "image_config.aspect_ratio",
        "1:1",
    ),
    "image_size on 2.5 Flash Image": (
        body(model="gemini-2.5-flash-image", image_config={"image_size": "1K"}),
        "image_config.image_size",
        "1024px only",
    ),
    "15 images for 3 Pro Image": (
        body(model="gemini-3-pro-image-preview", messages=images(15)),
        "messages",
        "at most 14 reference images",
    ),
    "4 images for 2.5 Flash Image": (
        body(model="gemini-2.5-flash-image", messages=images(4)),
        "messages",
        "at most 3 reference images",
    ),
}


@pytest.mark.parametrize(("raw", "param", "hint"), BAD_IMAGES.values(), ids=BAD_IMAGES.keys())
def test_bad_image_input_is_a_400_that_names_the_limit(
    raw: dict[str, Any], param: str, hint: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        translate(raw)
    assert caught.value.status == 400
    assert caught.value.param == param
    assert hint in caught.value.message


@pytest.mark.parametrize(
    ("model", "count"), [("gemini-3-pro-image-preview", 14), ("gemini-2.5-flash-image", 3)]
)
def test_images_up_to_the_limit_pass(model: str, count: int) -> None:
    parts = translate(body(model=model, messages=images(count)))["contents"][0]["parts"]
    assert sum("inlineData" in p for p in parts) == count


def test_image_limit_counts_only_the_last_user_turn() -> None:
    earlier = images(3)[0]
    messages = [earlier, {"role": "assistant", "content": "Done."}, *images(3)]
    translate(body(model="gemini-2.5-flash-image", messages=messages))


GOOD_EDGES: dict[str, dict[str, Any]] = {
    "stream null means false": body(stream=None),
    "seed at the int32 edges": body(seed=-(2**31)),
    "five stop sequences": body(stop=["a", "b", "c", "d", "e"]),
    "modalities in any case": body(modalities=["Text"]),
    "models/ prefix": body(model="models/gemini-2.5-flash"),
    "image_size 512 on 3.1 Flash Image": body(
        model="gemini-3.1-flash-image-preview", image_config={"image_size": "512"}
    ),
}


@pytest.mark.parametrize("raw", GOOD_EDGES.values(), ids=GOOD_EDGES.keys())
def test_edge_values_are_accepted(raw: dict[str, Any]) -> None:
    chat = parse_chat_request(raw)
    assert chat.model == "gemini-2.5-flash" or chat.model.startswith("gemini-3.1")
    assert chat.stream is False
    translate(raw)


def test_google_options_merge_with_the_literal_extra_body_winning() -> None:
    chat = parse_chat_request(
        body(google={"a": 1, "b": 1}, extra_body={"google": {"b": 2}}, stream=True)
    )
    assert chat.google == {"a": 1, "b": 2}
    assert chat.stream is True


def test_unknown_image_config_option_is_a_400_before_any_upstream_call():
    from gateway.errors import InvalidRequestError
    from gateway.translate.parse import parse_chat_request
    from gateway.translate.request import Resolved, to_gemini_request
    from gateway.translate.turn_view import ViewOptions

    body = {
        "model": "gemini-3-pro-image-preview",
        "messages": [{"role": "user", "content": "a fox"}],
        "image_config": {"aspect_ratio": "16:9", "quality": "hd"},
    }
    with pytest.raises(InvalidRequestError) as caught:
        to_gemini_request(parse_chat_request(body), Resolved(), ViewOptions())
    assert caught.value.param == "image_config.quality"
    assert "aspect_ratio" in caught.value.message


def test_hosted_links_in_assistant_text_blocks_are_resolved_and_inlined():
    """LangChain output_version="v1" sends our string content back as text blocks: the hosted
    link inside must be looked up (inputs_needed) and become inlineData, not stay prose."""
    from gateway.translate.parse import parse_chat_request
    from gateway.translate.request import Resolved, inputs_needed, to_gemini_request
    from gateway.translate.turn_view import ViewOptions

    url = "http://gw/v1/files/" + "ab" * 16 + ".png"
    text = f"Here is your fox.\n\n![image 1]({url})"
    body = {
        "model": "gemini-2.5-flash-image",
        "messages": [
            {"role": "user", "content": "a fox"},
            {"role": "assistant", "content": [{"type": "text", "text": text}]},
            {"role": "user", "content": "make it blue"},
        ],
    }
    options = ViewOptions(hosted_base="http://gw")
    chat = parse_chat_request(body)
    assert [u for u, _ in inputs_needed(chat, options).hosted_urls] == [url]
    resolved = Resolved(images={url: ("image/png", "iVBORw0KGgo=")}, hosted_base="http://gw")
    model_turn = to_gemini_request(chat, resolved, options).body["contents"][1]
    assert model_turn["parts"] == [
        {"text": "Here is your fox."},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]
