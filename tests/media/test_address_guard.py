"""The address rules, including every case where Python's `is_global` is wrong or version-dependent."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.media.address_guard import (
    HostPolicy,
    forbidden_host_name,
    forbidden_reason,
    normalise_host,
)

REFUSED: list[tuple[str, str]] = [
    # loopback, unspecified, private
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "unique-local"),
    ("fd12:3456:789a::1", "unique-local"),
    ("fec0::1", "site-local"),
    # link-local and metadata
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"),  # is_private False
    ("168.63.129.16", "metadata"),  # is_global True
    ("192.0.0.192", "metadata"),
    # shared, special-purpose, multicast, broadcast
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("192.0.0.8", "IETF protocol-assignment"),  # global on some 3.12.x
    ("192.0.0.170", "IETF protocol-assignment"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("2001:2::1", "benchmarking"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("224.0.0.1", "multicast"),  # is_global True on 3.11
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.88.99.1", "reserved"),
    ("100::1", "discard-only"),
    ("4000::1", "reserved"),  # outside 2000::/3
    ("5f00::1", "SRv6"),
    ("2001:10::1", "ORCHID"),
    # IPv4 hidden inside IPv6
    ("::ffff:127.0.0.1", "loopback"),  # mapped: unwrapped
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("::127.0.0.1", "IPv4-compatible"),  # is_global True
    ("::8.8.8.8", "IPv4-compatible"),  # deprecated form refused whatever it embeds
    ("::ffff:0:7f00:1", "IPv4-translated"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64: is_global True
    ("64:ff9b::a9fe:a9fe", "metadata"),
    ("64:ff9b::10.0.0.1", "private"),
    ("64:ff9b:1::1", "NAT64 local-use"),
    ("2002:7f00:1::", "6to4"),  # is_global True on 3.11
    ("2002:808:808::1", "6to4"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "142.250.74.110",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # mapped public IPv4
    "64:ff9b::808:808",  # NAT64 of a public IPv4 (how IPv6-only hosts reach IPv4)
]


@pytest.mark.parametrize(("address", "what"), REFUSED)
def test_refused(address: str, what: str) -> None:
    reason = forbidden_reason(ipaddress.ip_address(address))
    assert reason is not None and reason.startswith("host resolves to ")
    assert what in reason
    assert address not in reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_allowed_on_web_ports(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert forbidden_reason(ip) is None
    assert forbidden_reason(ip, 443) is None
    assert forbidden_reason(ip, 80) is None


@pytest.mark.parametrize("port", [0, 22, 25, 6379, 8080, 11211])
def test_other_ports_refused(port: int) -> None:
    assert forbidden_reason(ipaddress.ip_address("8.8.8.8"), port) == f"port {port} is not allowed"


def test_port_allowlist_is_configurable() -> None:
    ip = ipaddress.ip_address("8.8.8.8")
    assert forbidden_reason(ip, 8443, allowed_ports=frozenset({8443})) is None
    assert forbidden_reason(ip, 443, allowed_ports=frozenset({8443})) is not None


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "foo.localhost",
        "a.b.localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "metadata",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "instance-data",
        "db.internal",
        "printer.local",
        "nas.home.arpa",
        "router.lan",
    ],
)
def test_local_names_refused(host: str) -> None:
    assert forbidden_host_name(host) == "host is a local or internal name"


@pytest.mark.parametrize(
    "host", ["example.com", "images.example.org", "localhost.example.com", "internal.example"]
)
def test_public_names_pass_the_name_check(host: str) -> None:
    assert forbidden_host_name(host) is None


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("Example.COM.", "example.com"),
        ("[0:0::1]", "::1"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_normalise_host(given: str, normal: str) -> None:
    assert normalise_host(given) == normal


class TestHostPolicy:
    def test_open_policy_checks_names_ports_and_addresses(self) -> None:
        policy = HostPolicy()
        assert not policy.restricted
        assert policy.refusal_before_resolve("cdn.example", 443) is None
        assert policy.refusal_before_resolve("localhost", 443) is not None
        assert policy.refusal_before_resolve("cdn.example", 22) == "port 22 is not allowed"
        loopback = [ipaddress.ip_address("127.0.0.1")]
        assert policy.refusal_for_addresses("cdn.example", 443, loopback) is not None

    def test_allowlist_only_admits_listed_hosts_and_skips_address_checks(self) -> None:
        policy = HostPolicy(["img.corp.example", "127.0.0.1:8081", "[::1]:9000", "LocalHost."])
        assert policy.restricted
        private = [ipaddress.ip_address("10.0.0.5")]
        assert policy.refusal_before_resolve("img.corp.example", 8443) is None
        assert policy.refusal_for_addresses("img.corp.example", 8443, private) is None
        assert policy.refusal_before_resolve("127.0.0.1", 8081) is None
        assert policy.refusal_before_resolve("127.0.0.1", 8082) is not None
        assert policy.refusal_before_resolve("::1", 9000) is None
        assert policy.refusal_before_resolve("0:0::1", 9000) is None
        assert policy.refusal_before_resolve("localhost", 1234) is None
        refused = policy.refusal_before_resolve("cdn.example", 443)
        assert refused == "host is not on this gateway's image allow-list"

    def test_bad_entry_port_raises(self) -> None:
        with pytest.raises(ValueError, match="invalid port"):
            HostPolicy(["img.example:http"])
