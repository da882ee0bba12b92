"""The playground's files: served at / and /playground with a strict CSP, nothing inline that a
CSP would have to allow, and gone when GATEWAY_PLAYGROUND=false."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from gateway.routes.playground import ASSETS, content_security_policy
from tests.conftest import client_for, emulator_stack

INDEX = files("gateway").joinpath("playground", "index.html").read_text()


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/", "/playground"])
async def test_the_page_is_served_with_a_strict_policy(path):
    async with emulator_stack() as stack, client_for(stack.app) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert b'src="/playground/playground.js"' in response.content


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_each_asset_has_its_type(name):
    async with emulator_stack() as stack, client_for(stack.app) as client:
        response = await client.get(f"/playground/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == ASSETS[name]
    assert response.content == files("gateway").joinpath("playground", name).read_bytes()


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["secret.py", "..%2Fapp.py", "index.htm"])
async def test_other_names_are_not_files(name):
    async with emulator_stack() as stack, client_for(stack.app) as client:
        response = await client.get(f"/playground/{name}")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.anyio
async def test_switched_off_it_is_not_there():
    async with emulator_stack(playground=False) as stack, client_for(stack.app) as client:
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/playground/playground.js")).status_code == 404


def test_the_page_has_nothing_inline():
    assert not re.search(r"<script(?![^>]*\bsrc=)", INDEX), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", INDEX), "inline event handler"
    assert "style=" not in INDEX and "<style" not in INDEX
    assert "http://" not in INDEX and "https://" not in INDEX, "third-party resource"


def test_a_hosted_image_origin_is_allowed_for_images_only():
    policy = content_security_policy("https://img.example.com/base")
    img = next(p for p in policy.split("; ") if p.startswith("img-src"))
    assert "https://img.example.com" in img
    assert "img.example.com" not in policy.replace(img, "")
