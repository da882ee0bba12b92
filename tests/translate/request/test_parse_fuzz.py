"""Whatever a client sends, translation answers with a request for Gemini or a 400: never
another exception (which the client would see as a 500)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import InvalidRequestError
from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, inputs_needed, to_gemini_request
from gateway.translate.turn_view import ViewOptions

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 40)
    | st.floats(-3, 3, allow_nan=False)
    | st.sampled_from(
        ["", "text", "image", "auto", "low", "2K", "16:9", "data:image/png;base64,AA=="]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
PART = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal"]) | JSON},
    optional={
        "text": st.text(max_size=5) | JSON,
        "image_url": JSON | st.fixed_dictionaries({"url": JSON}),
        "input_audio": JSON,
        "file": JSON,
    },
)
CALL = st.fixed_dictionaries(
    {"id": st.sampled_from(["call_1", "call_2"]) | JSON, "type": st.just("function")},
    optional={
        "function": st.fixed_dictionaries(
            {"name": st.just("f") | JSON}, optional={"arguments": JSON}
        )
    },
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"])
        | JSON
    },
    optional={
        "content": st.text(max_size=5) | st.lists(PART, max_size=3) | JSON,
        "tool_calls": st.lists(CALL, max_size=2) | JSON,
        "tool_call_id": st.sampled_from(["call_1", "call_2"]) | JSON,
        "name": JSON,
        "images": JSON,
        "extra_content": JSON,
    },
)
OPTIONAL_KEYS = [
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "seed", "stop",
    "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "response_format",
    "reasoning_effort", "modalities", "stream", "stream_options", "google", "extra_body",
    "image_config", "imageConfig", "generationConfig", "safetySettings", "tools", "tool_choice",
]  # fmt: skip
BODY = st.fixed_dictionaries(
    {
        "model": st.sampled_from(
            [
                "gemini-2.5-flash",
                "gemini-2.5-pro",
                "gemini-3-pro-preview",
                "gemini-3-pro-image-preview",
                "gemini-2.5-flash-image",
                "gemini-3.1-flash-image-preview",
            ]
        ),
        "messages": st.lists(MESSAGE, min_size=1, max_size=4),
    },
    optional={key: JSON for key in OPTIONAL_KEYS},
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(BODY)
def test_any_body_is_translated_or_refused_with_a_400(raw: dict[str, Any]) -> None:
    try:
        chat = parse_chat_request(raw)
        options = ViewOptions()
        inputs_needed(chat, options)
        to_gemini_request(chat, Resolved(), options)
    except InvalidRequestError as err:
        assert err.status == 400
        assert err.param
