"""/v1/embeddings with the real OpenAI SDK against the app on a fake Gemini whose replies carry
what Google's normally do not: every vector must still be the one Gemini sent for its input.

Why: float answers copy each vector's JSON text, found by the id of its parsed list
(translate/embeddings/raw_reply.py). A `"values"` array that is not a vector (here in a sibling
object) was parsed, its text kept, and the list freed with the reply; a later batch's vector
allocated at that address was then written with the other array's numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import openai
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import client_for, make_settings, running_app

pytestmark = pytest.mark.anyio

WIDTH = 8


def first_batch() -> bytes:
    """100 vectors: half under an escaped key (read with the rest of the body), half plain, and
    as many `"values"` arrays that are not vectors beside them."""
    vectors = []
    for i in range(100):
        values = ",".join(f"{0.001 * (i + 1) + 0.0001 * j:.6f}" for j in range(WIDTH))
        key = "\\u0076alues" if i < 50 else "values"
        vectors.append(f'{{"{key}":[{values}]}}')
    other = ",".join(f"9.{j}5" for j in range(WIDTH))
    extras = ",".join(f'{{"values":[{other}]}}' for _ in range(50))
    return f'{{"embeddings":[{",".join(vectors)}],"extra":[{extras}]}}'.encode()


def second_batch() -> bytes:
    """100 all-integer vectors: parsed whole, so none of its lists has a copied text."""
    vectors = ",".join(f'{{"values":[{",".join([str(i)] * WIDTH)}]}}' for i in range(100))
    return f'{{"embeddings":[{vectors}]}}'.encode()


def fake_gemini(replies: dict[str, bytes]) -> Starlette:
    """Answers each batch by the first letter of its first text; B after A has been read."""

    async def embed(request: Request) -> Response:
        body = orjson.loads(await request.body())
        first = body["requests"][0]["content"]["parts"][0]["text"][0]
        if first == "B":
            await anyio.sleep(0.2)
        return Response(replies[first], media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", embed, methods=["POST"])])


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    fake = fake_gemini({"A": first_batch(), "B": second_batch()})
    async with running_app(make_settings(), httpx.ASGITransport(app=fake)) as app:
        yield openai.AsyncOpenAI(
            base_url="http://gateway/v1", api_key="k", http_client=client_for(app), max_retries=0
        )


async def test_each_vector_is_its_own_when_a_reply_holds_other_values_arrays(client):
    first = orjson.loads(first_batch())["embeddings"]
    second = orjson.loads(second_batch())["embeddings"]
    want = [item["values"] for item in first] + [[float(x) for x in i["values"]] for i in second]
    texts = [f"A{i}" for i in range(100)] + [f"B{i}" for i in range(100)]
    for _ in range(3):
        result = await client.embeddings.create(
            model="gemini-embedding-001", input=texts, encoding_format="float"
        )
        got = [d.embedding for d in result.data]
        assert [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w] == []
