"""The one Vertex URL builder: global, regional, multi-region, express, host override, and
the per-model location override; AI-Studio-style paths map onto Vertex's."""

from __future__ import annotations

import pytest

from gateway.upstream.vertex_url import VertexTarget, is_regional, location_for, vertex_url

GEN = "models/gemini-3-pro-image-preview:generateContent"


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("global", "https://aiplatform.googleapis.com"),
        ("us-central1", "https://us-central1-aiplatform.googleapis.com"),
        ("europe-west4", "https://europe-west4-aiplatform.googleapis.com"),
        ("us", "https://aiplatform.us.rep.googleapis.com"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com"),
    ],
)
def test_each_location_form_has_its_host_and_path(location: str, host: str):
    url = vertex_url(VertexTarget(project="p-1", location=location), GEN)
    assert url == (
        f"{host}/v1beta1/projects/p-1/locations/{location}/publishers/google/models/"
        "gemini-3-pro-image-preview:generateContent"
    )


def test_express_mode_has_no_project_or_location():
    url = vertex_url(VertexTarget(project=None, location="us-central1"), GEN)
    assert url == (
        "https://aiplatform.googleapis.com/v1beta1/publishers/google/models/"
        "gemini-3-pro-image-preview:generateContent"
    )


def test_stream_query_version_and_base_url_override():
    target = VertexTarget(
        project="p", location="us-central1", api_version="v1", base_url="http://127.0.0.1:9/"
    )
    url = vertex_url(target, "models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert url == (
        "http://127.0.0.1:9/v1/projects/p/locations/us-central1/publishers/google/models/"
        "gemini-2.5-flash:streamGenerateContent?alt=sse"
    )


def test_publisher_model_list_and_get_are_not_project_scoped():
    target = VertexTarget(project="p")
    base = "https://aiplatform.googleapis.com/v1beta1"
    assert vertex_url(target, "models?pageSize=1000") == (
        f"{base}/publishers/google/models?pageSize=1000"
    )
    assert vertex_url(target, "models/gemini-2.5-flash") == (
        f"{base}/publishers/google/models/gemini-2.5-flash"
    )


def test_per_model_location_override_first_prefix_wins():
    target = VertexTarget(
        project="p",
        location="global",
        locations=(("gemini-2.5-flash-image", "europe-west1"), ("gemini-2.5", "us-east5")),
    )
    assert location_for(target, "gemini-2.5-flash-image") == "europe-west1"
    assert location_for(target, "gemini-2.5-pro") == "us-east5"
    assert location_for(target, "gemini-3-pro-preview") == "global"
    url = vertex_url(target, "models/gemini-2.5-pro:countTokens")
    assert url.startswith("https://us-east5-aiplatform.googleapis.com/v1beta1/projects/p/")
    assert "/locations/us-east5/" in url


def test_regional_means_neither_global_nor_a_multi_region():
    assert [is_regional(x) for x in ("global", "us", "eu", "us-central1")] == [
        False,
        False,
        False,
        True,
    ]
