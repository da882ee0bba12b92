"""Issue 15's proof: two real gateway processes on one real Redis, a client's turns alternating
between them through a round-robin balancer, and the emulator checking every replayed
signature byte for byte. Also: hosted URLs across replicas, restarting both gateways, and Redis
going away mid-conversation (200s, counted, /readyz degraded) and coming back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from tests.e2e.fidelity_helpers import (
    EDIT_PROMPTS,
    IMAGE_MODELS,
    Pattern,
    Session,
    assert_degraded_without_corruption,
    assert_faithful,
    band_count,
    content_only,
    converse,
    langchain,
)
from tests.e2e.replicas import Replicas, RoundRobin, replicas

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MODEL = IMAGE_MODELS[0]
PATTERNS = (
    Pattern("content_only", content_only),
    Pattern("lc_invoke", langchain(stream=False), langchain=True),
    Pattern("lc_stream", langchain(stream=True), langchain=True),
)


PUBLIC_URL = "https://gateway.example"
POOL = 4  # Redis connections per gateway process


@pytest.fixture(scope="module")
def fleet_once(redis_server: Any) -> Iterator[Replicas]:
    """Two gateway processes for the whole module (each start costs seconds of imports)."""
    if redis_server.proc is None:
        redis_server.start()
    redis_server.flush()
    with replicas(
        redis_server.url, GATEWAY_STATE_TIMEOUT="0.5", GATEWAY_STATE_POOL_SIZE=str(POOL)
    ) as fleet:
        yield fleet


@pytest.fixture
def fleet(fleet_once: Replicas, redis_server: Any) -> Replicas:
    """The module's fleet with a fresh emulator record and a balancer starting at A."""
    if redis_server.proc is None:  # a test stopped it and failed before starting it again
        redis_server.start()
    fleet_once.emulator.reset()
    fleet_once.balancer = RoundRobin(fleet_once.gateways)
    return fleet_once


def unavailable(samples: dict[str, float]) -> float:
    return sum(v for k, v in samples.items() if k.startswith("gateway_state_unavailable_total"))


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
async def test_a_three_turn_image_edit_alternating_replicas_keeps_every_signature(
    fleet: Replicas, pattern: Pattern
) -> None:
    before = [unavailable(g.metrics()) for g in fleet.gateways]
    turns = await converse(Session(fleet), pattern, MODEL, EDIT_PROMPTS)
    ports = [g.port for g in fleet.gateways]
    assert fleet.balancer.served == [ports[0], ports[1], ports[0]]
    # Each edit saw every earlier image: one band per image the model received.
    assert [band_count(t.png) for t in turns if t.png] == [0, 1, 2]
    assert [unavailable(g.metrics()) for g in fleet.gateways] == before


async def test_hosted_urls_made_by_one_replica_are_served_and_replayed_by_the_other(
    redis_url: str,
) -> None:
    with replicas(redis_url, GATEWAY_PUBLIC_URL=PUBLIC_URL) as fleet:
        a, b = fleet.gateways
        made = httpx.post(
            f"{a.url}/v1/images/generations",
            json={"model": MODEL, "prompt": "a lighthouse", "response_format": "url"},
            headers={"authorization": "Bearer test-key"},
            timeout=30,
        )
        assert made.status_code == 200, made.text
        url = made.json()["data"][0]["url"]
        assert url.startswith(f"{PUBLIC_URL}/v1/files/")
        path = url.removeprefix(PUBLIC_URL)
        from_a = httpx.get(f"{a.url}{path}", timeout=10)
        from_b = httpx.get(f"{b.url}{path}", timeout=10)
        assert from_b.status_code == 200
        assert from_b.headers["content-type"] == "image/png"
        assert from_b.content == from_a.content and from_b.content.startswith(b"\x89PNG")
        # A content-only edit whose images travel as hosted links: each turn's link, made by
        # one replica, is resolved (bytes and signature) by the other.
        fleet.emulator.reset()
        turns = await converse(Session(fleet), PATTERNS[0], MODEL, EDIT_PROMPTS)
        assert all(f"]({PUBLIC_URL}/v1/files/" in t.message["content"] for t in turns)
        assert all("data:" not in t.message["content"] for t in turns)


async def test_conversations_survive_restarting_both_gateways(fleet: Replicas) -> None:
    pattern = PATTERNS[0]
    session = Session(fleet)
    history: list[Any] = [pattern.user(EDIT_PROMPTS[0])]
    first = await pattern.reply(session, MODEL, history)
    for gateway in fleet.gateways:
        gateway.stop()
    for gateway in fleet.gateways:
        gateway.start()
    history += [first.message, pattern.user(EDIT_PROMPTS[1])]
    second = await pattern.reply(session, MODEL, history)
    assert_faithful(fleet.emulator)
    assert second.png is not None and band_count(second.png) == 1


async def wait_ready(fleet: Replicas, status: str) -> None:
    with anyio.fail_after(15):
        for gateway in fleet.gateways:
            while httpx.get(f"{gateway.url}/readyz", timeout=5).json()["status"] != status:
                await anyio.sleep(0.1)


async def test_redis_going_away_mid_run_degrades_then_fidelity_comes_back(
    fleet: Replicas, redis_server: Any
) -> None:
    pattern = PATTERNS[0]
    session = Session(fleet)
    history: list[Any] = [pattern.user(EDIT_PROMPTS[0])]
    first = await pattern.reply(session, MODEL, history)
    before = unavailable(fleet.gateways[1].metrics())
    redis_server.stop()
    try:
        history += [first.message, pattern.user(EDIT_PROMPTS[1])]
        second = await pattern.reply(session, MODEL, history)  # on the other replica: a 200
        assert second.png is not None
        assert_degraded_without_corruption(fleet.emulator)
        await wait_ready(fleet, "degraded")
        assert unavailable(fleet.gateways[1].metrics()) > before
    finally:
        redis_server.start()
    await wait_ready(fleet, "ready")
    # A new conversation, alternating again: remembered and replayed byte-exact.
    fleet.balancer.served.clear()
    await converse(session, pattern, MODEL, EDIT_PROMPTS[:2])
    assert len(set(fleet.balancer.served)) == 2


async def test_a_stored_response_made_on_one_replica_chains_and_is_managed_on_the_other(
    fleet: Replicas,
) -> None:
    """`previous_response_id` chains across replicas (A, B, A), every signature byte-exact;
    retrieve, input_items and delete answer on any replica."""
    client = fleet.openai()
    tools: Any = [{"type": "image_generation"}]
    previous = None
    ids = []
    for prompt in EDIT_PROMPTS:
        response = await client.responses.create(
            model=MODEL, input=prompt, tools=tools, previous_response_id=previous
        )
        assert_faithful(fleet.emulator)
        ids.append(response.id)
        previous = response.id
    ports = [g.port for g in fleet.gateways]
    assert fleet.balancer.served == [ports[0], ports[1], ports[0]]
    a, b = fleet.gateways
    headers = {"authorization": "Bearer test-key"}
    fetched = httpx.get(f"{b.url}/v1/responses/{ids[0]}", headers=headers, timeout=10)
    assert fetched.status_code == 200 and fetched.json()["id"] == ids[0]
    items = httpx.get(f"{b.url}/v1/responses/{ids[2]}/input_items", headers=headers, timeout=10)
    assert items.status_code == 200 and items.json()["data"]
    deleted = httpx.delete(f"{b.url}/v1/responses/{ids[2]}", headers=headers, timeout=10)
    assert deleted.status_code == 200
    gone = httpx.get(f"{a.url}/v1/responses/{ids[2]}", headers=headers, timeout=10)
    assert gone.status_code == 404


async def test_redis_connections_stay_within_processes_times_pool(
    fleet: Replicas, redis_server: Any
) -> None:
    """60 concurrent requests over two processes: Redis never sees more than 2 x POOL
    gateway connections (the pools wait for a free connection instead of growing)."""
    import redis

    client = fleet.openai()

    async def one(k: int) -> None:
        reply = await client.chat.completions.create(
            model="gemini-3-pro-preview", messages=[{"role": "user", "content": f"hello {k}"}]
        )
        assert reply.choices[0].message.content

    async with anyio.create_task_group() as tg:
        for k in range(60):
            tg.start_soon(one, k)
    raw = redis.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        named = [c for c in raw.client_list() if c.get("name") == "gemini-gateway"]
    finally:
        raw.close()
    assert 2 <= len(named) <= 2 * POOL
