"""SSRF corpus (test plan S1): every URL is refused, and nothing on loopback hears a byte.

Each URL aims at a canary listener (or at an address that must never be dialled). The
autouse `dial_guard` fails any test that dials a non-loopback address, so a bug here shows up as a
failure, never as traffic leaving the machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import pytest

from gateway.errors import InvalidImageUrlError
from gateway.media.fetch import FetchPolicy, ImageFetcher
from gateway.media.pinned_transport import Resolver

pytestmark = pytest.mark.anyio

PARAM = "messages[0].content[1].image_url.url"

# Names the stub resolver answers; everything else gets numeric parsing only.
DNS: dict[str, list[str]] = {
    "public.example": ["127.0.0.1"],  # looks public, resolves to loopback
    "mixed.example": ["93.184.216.34", "127.0.0.1"],  # one good answer, one bad
    "mixed6.example": ["2606:4700::1111", "::1"],
    "imds.example": ["169.254.169.254"],
    "nat64.example": ["64:ff9b::7f00:1"],
    "ula.example": ["fd12:3456::1"],
    "public-port.example": ["8.8.8.8"],
}

# (url template, a fragment the refusal must contain). {cp} is the canary port.
HAND_PICKED: list[tuple[str, str]] = [
    # IPv4 loopback spellings
    ("http://127.0.0.1:{cp}/", "loopback"),
    ("https://127.0.0.1:{cp}/", "loopback"),
    ("HTTP://127.0.0.1:{cp}/", "loopback"),
    ("http://127.0.0.2:{cp}/", "loopback"),
    ("http://2130706433:{cp}/", "loopback"),
    ("http://0x7f000001:{cp}/", "loopback"),
    ("http://0177.0.0.1:{cp}/", "not a valid URL"),
    ("http://127.1:{cp}/", "loopback"),
    ("http://0x7f.1:{cp}/", "loopback"),
    ("http://0.0.0.0:{cp}/", "unspecified"),
    ("http://0:{cp}/", "unspecified"),
    ("http://127.0.0.1:{cp}#@evil.com/", "loopback"),
    # IPv6 spellings
    ("http://[::1]:{cp}/", "loopback"),
    ("http://[0:0::1]:{cp}/", "loopback"),
    ("http://[::]:{cp}/", "unspecified"),
    ("http://[::ffff:127.0.0.1]:{cp}/", "loopback"),
    ("http://[::ffff:7f00:1]:{cp}/", "loopback"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]:{cp}/", "loopback"),
    ("http://[::127.0.0.1]:{cp}/", "IPv4-compatible"),
    ("http://[64:ff9b::7f00:1]:{cp}/", "loopback"),
    ("http://[64:ff9b:1::1]:{cp}/", "NAT64"),
    ("http://[2002:7f00:1::]:{cp}/", "6to4"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://[fe80::1]:{cp}/", "link-local"),
    ("http://[fe80::1%25lo]:{cp}/", "link-local"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata"),
    # private, shared, metadata and special IPv4
    ("http://10.0.0.1/", "private"),
    ("http://10.255.255.254:{cp}/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.0.1/", "private"),
    ("https://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "metadata"),
    ("http://169.254.169.254/computeMetadata/v1/?recursive=true", "metadata"),
    ("http://2852039166/latest/meta-data/", "metadata"),
    ("http://0xA9.0xFE.0xA9.0xFE/", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://168.63.129.16/machine?comp=goalstate", "metadata"),
    ("http://192.0.0.192/opc/v2/instance/", "metadata"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250:{cp}/", "multicast"),
    ("http://192.0.0.8/", "IETF"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.1/", "documentation"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "broadcast"),
    # names refused before any lookup
    ("http://localhost:{cp}/", "local or internal name"),
    ("http://LOCALHOST:{cp}/", "local or internal name"),
    ("http://localhost.:{cp}/", "local or internal name"),
    ("http://foo.localhost:{cp}/", "local or internal name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local or internal name"),
    ("http://metadata/computeMetadata/v1/", "local or internal name"),
    ("http://instance-data/latest/meta-data/", "local or internal name"),
    ("http://printer.local:{cp}/", "local or internal name"),
    ("http://db.corp.internal:{cp}/", "local or internal name"),
    # names a (stubbed) DNS maps to forbidden addresses
    ("http://public.example:{cp}/", "loopback"),
    ("http://PUBLIC.example.:{cp}/", "loopback"),
    ("http://mixed.example:{cp}/", "loopback"),
    ("http://mixed6.example:{cp}/", "loopback"),
    ("http://imds.example/latest/meta-data/", "metadata"),
    ("http://nat64.example:{cp}/", "loopback"),
    ("http://ula.example/", "unique-local"),
    ("http://%6c%6fcalhost:{cp}/", "could not be resolved"),
    # userinfo tricks
    ("http://evil.com\\@127.0.0.1:{cp}/", "credentials"),
    ("http://user@127.0.0.1:{cp}/", "credentials"),
    ("http://user:pass@public.example:{cp}/", "credentials"),
    ("http://127.0.0.1\\@public.example:{cp}/", "credentials"),
    # schemes
    ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
    ("ftp://127.0.0.1:{cp}/", "only http and https"),
    ("dict://127.0.0.1:6379/info", "only http and https"),
    ("jar:http://127.0.0.1:{cp}/x.jar!/", "only http and https"),
    ("ldap://127.0.0.1:{cp}/", "only http and https"),
    ("data:image/png;base64,iVBORw0KGgo=", "only http and https"),
    ("http:///etc/passwd", "no host"),
    # ports outside the allow-list, on public addresses
    ("http://8.8.8.8:22/", "port 22"),
    ("http://8.8.8.8:6379/", "port 6379"),
    ("http://public-port.example:6379/", "port 6379"),
    ("https://public-port.example:22/", "port 22"),
    ("http://[2606:4700::1111]:8080/", "port 8080"),
    ("http://8.8.8.8:0/", "port 0"),
]

_TARGETS = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",
    "100.100.100.200",
    "168.63.129.16",
    "0.0.0.0",
]


def _spellings(ip: str) -> list[str]:
    """Eleven ways to write one IPv4 address in a URL host."""
    n = int(ipaddress.IPv4Address(ip))
    octets = [int(o) for o in ip.split(".")]
    hi, lo = n >> 16, n & 0xFFFF
    return [
        ip,
        str(n),  # decimal
        hex(n),  # hex
        ".".join(f"0{o:o}" for o in octets),  # octal (httpx refuses it)
        f"{octets[0]}.{n & 0xFFFFFF}",  # short a.b
        ".".join(hex(o) for o in octets),  # dotted hex
        f"[::ffff:{ip}]",  # IPv4-mapped
        f"[::ffff:{hi:x}:{lo:x}]",  # IPv4-mapped, hex
        f"[64:ff9b::{ip}]",  # NAT64
        f"[::{ip}]",  # IPv4-compatible
        f"[2002:{hi:x}:{lo:x}::]",  # 6to4
    ]


GENERATED: list[tuple[str, str]] = [
    (f"http://{spelling}:{{cp}}/", "") for ip in _TARGETS for spelling in _spellings(ip)
]
CORPUS = HAND_PICKED + GENERATED
REFUSAL_PREFIXES = (
    "image URL refused: ",
    "image URL is not a valid URL",
    "image URL host could not be resolved",
    "image URL has no host",
)


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 150
    assert len(set(CORPUS)) == len(CORPUS)


def assert_clean_refusal(err: InvalidImageUrlError, expected: str = "") -> None:
    message = err.message
    assert err.param == PARAM
    assert err.code == "invalid_image_url" and err.status == 400
    assert message.startswith(REFUSAL_PREFIXES), message
    assert expected in message
    # No address, and no number at all unless it is the port the client wrote.
    if "port " not in message:
        words = re.sub(r"IPv4|IPv6|NAT64|6to4", "", message)
        assert not re.search(r"\d", words), message


@pytest.mark.parametrize(("template", "expected"), CORPUS)
async def test_ssrf_corpus_is_refused_silently(
    template: str,
    expected: str,
    canary: Any,
    dial_guard: list[str],
    stub_resolver: Callable[..., Resolver],
) -> None:
    port = canary.port
    url = template.format(cp=port)
    # The canary's port is allowed so the address rules, not the port rule, do the refusing.
    policy = FetchPolicy(allowed_ports=frozenset({80, 443, port}))
    async with ImageFetcher(policy, resolver=stub_resolver(DNS)) as fetcher:
        with pytest.raises(InvalidImageUrlError) as info:
            await fetcher.fetch(url, param=PARAM)
        assert fetcher.stats["refusals"] == 1
    assert_clean_refusal(info.value, expected)
    assert dial_guard == []
    assert canary.connections == 0
    assert bytes(canary.received) == b""


# ---------------------------------------------------------------- redirects from an allowed server

REDIRECT_TARGETS = [
    "http://127.0.0.1:{cp}/",
    "http://[::1]:{cp}/",
    "http://2130706433:{cp}/",
    "http://public.example:{cp}/",
    "http://localhost:{cp}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{cp}/_INFO",
    "http://user@127.0.0.1:{cp}/",
]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", REDIRECT_TARGETS)
async def test_redirect_from_allowlisted_server_to_forbidden_target_is_refused(
    status: int,
    target: str,
    server: Any,
    canary: Any,
    dial_guard: list[str],
    stub_resolver: Callable[..., Resolver],
) -> None:
    location = target.format(cp=canary.port)
    server.redirect("/img", status, location)
    policy = FetchPolicy(allowed_hosts=frozenset({server.host}))
    async with ImageFetcher(policy, resolver=stub_resolver(DNS)) as fetcher:
        with pytest.raises(InvalidImageUrlError) as info:
            await fetcher.fetch(server.url("/img"), param=PARAM)
    assert_clean_refusal(info.value)
    assert server.hits["/img"] == 1
    assert dial_guard == ["127.0.0.1"]  # only the allowed server was ever dialled
    assert canary.connections == 0
    assert bytes(canary.received) == b""


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_hop_to_forbidden_target_is_refused_without_allowlist(
    status: int, canary: Any, dial_guard: list[str], stub_resolver: Callable[..., Resolver]
) -> None:
    """No allow-list: every hop meets the address rules, so the first hop is refused too."""
    policy = FetchPolicy(allowed_ports=frozenset({80, 443, canary.port}))
    async with ImageFetcher(policy, resolver=stub_resolver(DNS)) as fetcher:
        with pytest.raises(InvalidImageUrlError) as info:
            await fetcher.fetch(f"http://public.example:{canary.port}/r{status}", param=PARAM)
    assert_clean_refusal(info.value, "loopback")
    assert dial_guard == [] and canary.connections == 0
