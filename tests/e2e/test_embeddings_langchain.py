"""LangChain's OpenAIEmbeddings against the gateway on a real loopback socket (its sync client
cannot use an in-process transport): with `check_embedding_ctx_length=False` (the documented
setting) documents and queries embed; without it LangChain sends token ids and gets the 400
that names the setting.

The token-id case needs tiktoken's cl100k_base, which tiktoken downloads: offline, a byte-level
stand-in is registered under that name. LangChain's own code path is unchanged; only which
ids it sends differs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import tiktoken
import tiktoken.registry
from embeddings_helpers import expected_vector

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import make_settings
from tests.hardening.loopback import serve

MODEL = "gemini-embedding-001"


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    emulator = build_emulator_app()
    app = build_app(make_settings(), upstream_transport=httpx.ASGITransport(app=emulator))
    with serve(app) as url:
        yield f"{url}/v1", emulator.state.emulator


@pytest.fixture
def http_clients() -> Iterator[dict[str, Any]]:
    """Clients the test owns and closes: LangChain never closes the ones it makes itself."""
    sync_client, async_client = httpx.Client(trust_env=False), httpx.AsyncClient(trust_env=False)
    yield {"http_client": sync_client, "http_async_client": async_client}
    sync_client.close()


def embeddings(base_url: str, clients: dict[str, Any], **kwargs: Any) -> Any:
    from langchain_openai import OpenAIEmbeddings

    return OpenAIEmbeddings(
        model=MODEL, base_url=base_url, api_key="test-key", max_retries=0, **clients, **kwargs
    )


def test_embed_documents_and_query(served, http_clients):
    base_url, emulator = served
    client = embeddings(base_url, http_clients, check_embedding_ctx_length=False)
    docs = ["the fox jumps", "the dog sleeps", "a third note"]
    assert client.embed_documents(docs) == [expected_vector(d) for d in docs]
    assert client.embed_query("which animal jumps?") == expected_vector("which animal jumps?")
    assert [r.method for r in emulator.requests] == ["batchEmbedContents"] * 2


def test_chunk_size_and_dimensions_pass_through(served, http_clients):
    base_url, emulator = served
    client = embeddings(
        base_url, http_clients, check_embedding_ctx_length=False, chunk_size=2, dimensions=128
    )
    docs = [f"note {i}" for i in range(5)]
    assert client.embed_documents(docs) == [expected_vector(d, width=128) for d in docs]
    assert [len(r.body["requests"]) for r in emulator.requests] == [2, 2, 1]


@pytest.mark.anyio
async def test_async_embed_documents_and_query(served, http_clients):
    base_url, _ = served
    async with http_clients["http_async_client"]:
        client = embeddings(base_url, http_clients, check_embedding_ctx_length=False)
        assert await client.aembed_documents(["one", "two"]) == [
            expected_vector("one"),
            expected_vector("two"),
        ]
        assert await client.aembed_query("three") == expected_vector("three")


@pytest.fixture
def offline_cl100k(monkeypatch: pytest.MonkeyPatch) -> None:
    byte_level = tiktoken.Encoding(
        name="cl100k_base",
        pat_str=r"\S+|\s+",
        mergeable_ranks={bytes([i]): i for i in range(256)},
        special_tokens={},
    )
    monkeypatch.setitem(tiktoken.registry.ENCODINGS, "cl100k_base", byte_level)


@pytest.mark.usefixtures("offline_cl100k")
def test_default_langchain_sends_token_ids_and_gets_a_400_naming_the_setting(served, http_clients):
    base_url, emulator = served
    with pytest.raises(openai.BadRequestError) as caught:
        embeddings(base_url, http_clients).embed_documents(["the fox jumps"])
    assert caught.value.status_code == 400
    assert "check_embedding_ctx_length=False" in caught.value.message
    assert caught.value.code == "token_ids_not_supported"
    assert emulator.requests == []
