"""Guards a performance rewrite found by the benchmark: turn keys of messages with images are
computed from pieces (the image URLs referenced, never joined into a multi-MB string). The keys
must stay exactly what the joined text gives, or remembered turns would stop matching."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.translate.data_urls import SAMPLE, fingerprint, fingerprint_pieces, markdown_image
from gateway.translate.turn_keys import message_digest, visible_pieces, visible_text

# lengths around the sample size and its multiples, where slicing across pieces can go wrong
sizes = st.sampled_from([0, 1, 7, SAMPLE - 1, SAMPLE, SAMPLE + 1, 2 * SAMPLE + 3, 3 * SAMPLE])
ALPHABET = "".join(chr(0x61 + (i * 7) % 26) + chr(0xE9 + i % 3) for i in range(2 * SAMPLE))
long_piece = st.builds(
    lambda n, c: ALPHABET[c : c + n], sizes, st.integers(min_value=0, max_value=SAMPLE)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), long_piece), min_size=1, max_size=9))
def test_fingerprint_of_pieces_is_the_fingerprint_of_their_join(parts):
    assert fingerprint_pieces(parts) == fingerprint("".join(parts))


def test_long_texts_across_piece_boundaries():
    text = "".join(chr(0x41 + i % 50) for i in range(5 * SAMPLE + 17))
    for cut in (1, SAMPLE - 1, SAMPLE, len(text) // 2, len(text) // 2 + 1, len(text) - SAMPLE):
        assert fingerprint_pieces([text[:cut], text[cut:]]) == fingerprint(text)
    assert fingerprint_pieces([text[i : i + 999] for i in range(0, len(text), 999)]) == fingerprint(
        text
    )


image_part = st.builds(
    lambda n: {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "QUJD" * n}},
    st.integers(min_value=1, max_value=30_000),
)
text_part = st.builds(lambda t: {"type": "text", "text": t}, st.text(max_size=40))
content = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(image_part, text_part, st.text(max_size=5)), max_size=6),
)


@settings(max_examples=100, deadline=None)
@given(content)
def test_visible_text_is_the_join_of_its_pieces(value):
    assert visible_text(value) == "".join(visible_pieces(value))


def test_a_message_digest_sees_every_image_once():
    """The digest hashes length + samples of the visible text: a change to an image's middle
    bytes (sampled) or length changes it, the same message twice gives the same digest."""
    url = "data:image/png;base64," + "A" * (10 * SAMPLE)
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
    # a character inside the middle sample: the joined text's midpoint, shifted past "![image 1]("
    inside = len(markdown_image(url, 0)) // 2 - len("![image 1](") + 5
    changed_url = url[:inside] + "B" + url[inside + 1 :]
    changed = {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": changed_url}}],
    }
    assert message_digest(message) == message_digest(dict(message))
    assert message_digest(message) != message_digest(changed)
