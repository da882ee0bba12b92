"""Which hosts, addresses and ports an image fetch may reach (the SSRF rules).

`ipaddress.is_global` alone is not enough: on Python 3.11 it calls multicast, NAT64 and 6to4 of
loopback, IPv4-compatible `::/96` and Azure's WireServer "global", and it never unwraps
`::ffff:127.0.0.1`. So the tables below name every range we refuse, in the order we test them,
and `not is_global` only catches what they miss. Pure: no DNS, no sockets.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Final

IPAddress = IPv4Address | IPv6Address

DEFAULT_ALLOWED_PORTS: Final[frozenset[int]] = frozenset({80, 443})

_V4: Final[tuple[tuple[IPv4Network, str], ...]] = tuple(
    (IPv4Network(net), what)
    for net, what in (
        # Metadata first so the reason names the real danger.
        ("169.254.169.254/32", "a cloud metadata address"),  # AWS, GCP, Azure, OpenStack
        ("168.63.129.16/32", "a cloud metadata address"),  # Azure WireServer (is_global True!)
        ("100.100.100.200/32", "a cloud metadata address"),  # Alibaba (is_private False!)
        ("192.0.0.192/32", "a cloud metadata address"),  # Oracle
        ("0.0.0.0/8", "an unspecified address"),  # "this network"; 0.0.0.0 dials localhost
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", "a private network address"),
        ("172.16.0.0/12", "a private network address"),
        ("192.168.0.0/16", "a private network address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("169.254.0.0/16", "a link-local address"),
        ("192.0.0.0/24", "an IETF protocol-assignment address"),  # global on some 3.12.x
        ("192.0.2.0/24", "a documentation address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved address"),  # deprecated 6to4 relay anycast
        ("198.18.0.0/15", "a benchmarking address"),
        ("224.0.0.0/4", "a multicast address"),  # is_global True on 3.11
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_V6: Final[tuple[tuple[IPv6Network, str], ...]] = tuple(
    (IPv6Network(net), what)
    for net, what in (
        ("fd00:ec2::254/128", "a cloud metadata address"),  # AWS IMDS over IPv6
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible IPv6 address"),  # deprecated; ::127.0.0.1 is "global"
        ("::ffff:0:0:0/96", "an IPv4-translated IPv6 address"),  # SIIT (RFC 2765)
        ("64:ff9b:1::/48", "a NAT64 local-use address"),  # RFC 8215
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo tunnel address"),  # embeds an arbitrary IPv4
        ("2001:2::/48", "a benchmarking address"),
        ("2001:10::/28", "an ORCHID address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),  # RFC 9637
        ("2002::/16", "a 6to4 tunnel address"),  # embeds an arbitrary IPv4
        ("5f00::/16", "an SRv6 segment address"),
        ("fc00::/7", "a unique-local (private) IPv6 address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)

_IPV4_MAPPED: Final = IPv6Network("::ffff:0:0/96")
_NAT64: Final = IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST_V6: Final = IPv6Network("2000::/3")

# Names that mean "this machine" or "the cloud's internal network", refused before any lookup.
_LOCAL_NAMES: Final[frozenset[str]] = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_LOCAL_SUFFIXES: Final[tuple[str, ...]] = (
    ".localhost",
    ".internal",
    ".local",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".home",
    ".corp",
    ".intranet",
)


def _address_class(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is, or None when it is publicly routable."""
    if isinstance(ip, IPv6Address):
        if ip in _IPV4_MAPPED or ip in _NAT64:
            # Dialling these reaches the embedded IPv4 address, so judge that one.
            return _address_class(IPv4Address(ip.packed[-4:]))
        for net6, what in _V6:
            if ip in net6:
                return what
        if ip not in _GLOBAL_UNICAST_V6:
            return "a reserved address"
    else:
        for net4, what in _V4:
            if ip in net4:
                return what
    if not ip.is_global:
        return "a non-public address"
    return None


def forbidden_reason(
    ip: IPAddress,
    port: int | None = None,
    *,
    allowed_ports: frozenset[int] = DEFAULT_ALLOWED_PORTS,
) -> str | None:
    """Why a fetch may not connect to `ip`:`port`, or None when it may.

    The reason is safe to show a client: it names the class of address, never the address.
    """
    what = _address_class(ip)
    if what is not None:
        return f"host resolves to {what}"
    if port is not None and port not in allowed_ports:
        return f"port {port} is not allowed"
    return None


def forbidden_host_name(host: str) -> str | None:
    """Why a host name is refused before resolving it (local and cloud-internal names)."""
    name = normalise_host(host)
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return "host is a local or internal name"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host spells in canonical notation (what httpx calls an IP), else None."""
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None


def normalise_host(host: str) -> str:
    """One spelling per host: lower case, no trailing dot, IDNA, canonical IP text."""
    name = host.strip().strip("[]").rstrip(".").lower()
    ip = literal_ip(name)
    if ip is not None:
        return str(ip)
    if not name.isascii():
        try:
            return name.encode("idna").decode("ascii")
        except UnicodeError:
            return name
    return name


class HostPolicy:
    """The operator's host allow-list plus the port and address rules for everyone else.

    An empty allow-list means "any public host on an allowed port". A non-empty one means "only
    these", and because the operator named them, they skip the address and port checks: that is
    how a deployment reaches its own internal image server (or a test its loopback server).
    Entries are `host` (any port) or `host:port`; IPv6 as `[::1]:8080`.
    """

    __slots__ = ("_any_port", "_host_ports", "allowed_ports")

    def __init__(
        self,
        allowed_hosts: Iterable[str] = (),
        allowed_ports: Iterable[int] = DEFAULT_ALLOWED_PORTS,
    ) -> None:
        any_port: set[str] = set()
        host_ports: set[tuple[str, int]] = set()
        for entry in allowed_hosts:
            host, port = _split_entry(entry)
            if port is None:
                any_port.add(host)
            else:
                host_ports.add((host, port))
        self._any_port: frozenset[str] = frozenset(any_port)
        self._host_ports: frozenset[tuple[str, int]] = frozenset(host_ports)
        self.allowed_ports: frozenset[int] = frozenset(allowed_ports)

    @property
    def restricted(self) -> bool:
        """True when only allow-listed hosts may be fetched."""
        return bool(self._any_port or self._host_ports)

    def is_allowlisted(self, host: str, port: int) -> bool:
        name = normalise_host(host)
        return name in self._any_port or (name, port) in self._host_ports

    def refusal_before_resolve(self, host: str, port: int) -> str | None:
        """Checks that need no DNS: the allow-list, local names, the port."""
        if self.is_allowlisted(host, port):
            return None
        if self.restricted:
            return "host is not on this gateway's image allow-list"
        name_reason = forbidden_host_name(host)
        if name_reason is not None:
            return name_reason
        if port not in self.allowed_ports:
            return f"port {port} is not allowed"
        return None

    def refusal_for_addresses(
        self, host: str, port: int, addresses: Iterable[IPAddress]
    ) -> str | None:
        """The first forbidden answer's reason: one bad answer refuses the host (mixed records)."""
        if self.is_allowlisted(host, port):
            return None
        for ip in addresses:
            reason = forbidden_reason(ip, port, allowed_ports=self.allowed_ports)
            if reason is not None:
                return reason
        return None


def _split_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address."""
    text = entry.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if port_text and not port_text.isdigit():
        raise ValueError(f"invalid port in allowed host entry {entry!r}")
    return normalise_host(host), int(port_text) if port_text else None
