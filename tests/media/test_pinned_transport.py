"""The connect-time layer: one resolution, every answer checked, the checked IP dialled.

The inner backend is a fake that records dials, so "public" addresses here are never contacted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import anyio
import httpcore
import pytest

from gateway.errors import InvalidImageUrlError
from gateway.media.address_guard import HostPolicy, IPAddress
from gateway.media.fetch import FetchPolicy, ImageFetcher
from gateway.media.pinned_transport import (
    AddressRefusedError,
    HostResolutionError,
    PinnedBackend,
    system_resolver,
)

pytestmark = pytest.mark.anyio


class _Stream(httpcore.AsyncNetworkStream):
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return None

    async def aclose(self) -> None:
        return None


class FakeNetwork(httpcore.AsyncNetworkBackend):
    def __init__(self, unreachable: Iterable[str] = ()) -> None:
        self.dialled: list[tuple[str, int]] = []
        self.unreachable = set(unreachable)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        if host in self.unreachable:
            raise httpcore.ConnectError("unreachable")
        return _Stream()


def answers(*rounds: Sequence[str]) -> tuple[Callable[[str, int], Any], list[str]]:
    """A resolver giving each round of answers in turn (a rebinding DNS server)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address(a) for a in rounds[min(len(calls), len(rounds)) - 1]]

    return resolve, calls


async def test_dials_the_address_it_checked_and_resolves_once_per_connection() -> None:
    resolve, calls = answers(["93.184.216.34"], ["127.0.0.1"])
    net = FakeNetwork()
    backend = PinnedBackend(HostPolicy(), resolve, net)
    await backend.connect_tcp("rebind.example", 443)
    assert net.dialled == [("93.184.216.34", 443)] and calls == ["rebind.example"]
    # The DNS answer flips to loopback: the next connection is checked again and refused.
    with pytest.raises(AddressRefusedError, match="loopback"):
        await backend.connect_tcp("rebind.example", 443)
    assert net.dialled == [("93.184.216.34", 443)] and len(calls) == 2


async def test_one_forbidden_answer_refuses_the_host() -> None:
    resolve, _ = answers(["93.184.216.34", "10.0.0.7"])
    net = FakeNetwork()
    with pytest.raises(AddressRefusedError, match="private"):
        await PinnedBackend(HostPolicy(), resolve, net).connect_tcp("mixed.example", 443)
    assert net.dialled == []


async def test_falls_back_to_the_next_checked_address() -> None:
    resolve, _ = answers(["2606:4700::1111", "1.1.1.1"])
    net = FakeNetwork(unreachable={"2606:4700::1111"})
    await PinnedBackend(HostPolicy(), resolve, net).connect_tcp("dual.example", 443)
    assert net.dialled == [("2606:4700::1111", 443), ("1.1.1.1", 443)]


async def test_ip_literals_skip_the_resolver() -> None:
    resolve, calls = answers(["127.0.0.1"])
    net = FakeNetwork()
    await PinnedBackend(HostPolicy(), resolve, net).connect_tcp("8.8.8.8", 443)
    assert calls == [] and net.dialled == [("8.8.8.8", 443)]


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("localhost", 443, "local or internal name"),
        ("metadata.google.internal", 80, "local or internal name"),
        ("cdn.example", 6379, "port 6379"),
    ],
)
async def test_names_and_ports_are_refused_before_resolving(
    host: str, port: int, reason: str
) -> None:
    resolve, calls = answers(["93.184.216.34"])
    with pytest.raises(AddressRefusedError, match=reason):
        await PinnedBackend(HostPolicy(), resolve, FakeNetwork()).connect_tcp(host, port)
    assert calls == []


async def test_allowlisted_host_reaches_its_private_address() -> None:
    resolve, _ = answers(["10.1.2.3"])
    net = FakeNetwork()
    policy = HostPolicy(["images.corp.example:8080"])
    await PinnedBackend(policy, resolve, net).connect_tcp("images.corp.example", 8080)
    assert net.dialled == [("10.1.2.3", 8080)]
    with pytest.raises(AddressRefusedError, match="allow-list"):
        await PinnedBackend(policy, resolve, net).connect_tcp("images.corp.example", 8081)


async def test_no_answers_is_a_resolution_error() -> None:
    resolve, _ = answers([])
    with pytest.raises(HostResolutionError):
        await PinnedBackend(HostPolicy(), resolve, FakeNetwork()).connect_tcp("void.example", 443)


async def test_slow_resolution_is_a_connect_timeout() -> None:
    async def stuck(host: str, port: int) -> list[IPAddress]:
        await anyio.sleep(30)
        return []

    with pytest.raises(httpcore.ConnectTimeout):
        await PinnedBackend(HostPolicy(), stuck, FakeNetwork()).connect_tcp(
            "slow.example", 443, timeout=0.05
        )


# ---------------------------------------------------------------- the real resolver, loopback only


async def test_system_resolver_sees_localhost_as_loopback() -> None:
    addresses = await system_resolver("localhost", 80)
    assert addresses and all(ip.is_loopback for ip in addresses)
    reason = HostPolicy().refusal_for_addresses("localhost", 80, addresses)
    assert reason == "host resolves to a loopback address"


async def test_real_resolver_numeric_and_local_names_are_refused(
    canary: Any, dial_guard: list[str]
) -> None:
    """No stub: the OS resolver parses `2130706433` and reads /etc/hosts; nothing is dialled."""
    names = ["localhost", "2130706433", "0x7f.1", "127.1", "0"]
    own = socket.gethostname()
    own_addresses = await system_resolver(own, 80)
    if not any(ip.is_global for ip in own_addresses):
        names.append(own)  # often 127.0.1.1 or a container address
    policy = FetchPolicy(allowed_ports=frozenset({80, 443, canary.port}))
    async with ImageFetcher(policy) as fetcher:
        for name in names:
            with pytest.raises(InvalidImageUrlError) as info:
                await fetcher.fetch(f"http://{name}:{canary.port}/", param="p")
            assert info.value.message.startswith("image URL refused: "), name
    assert dial_guard == [] and canary.connections == 0
