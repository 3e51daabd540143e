"""The SSRF guard's policy: which addresses a crawl may connect to (pure; no Scrapy, no Twisted,
so the CLI can read the setting's name without loading them).

Two pieces in `spiders.middlewares` enforce it. Scrapy's HTTP/1.1 handler connects through
Twisted's HostnameEndpoint, which asks the reactor's `nameResolver` for the addresses of every
host name *and* every IP literal at each connection, then connects to exactly the addresses it
was given. `GuardedResolver` sits there (Scrapy's TWISTED_DNS_RESOLVER setting) and hands on
only the addresses this policy permits, so the address checked is the address connected to: a
host that re-resolves to 127.0.0.1 on the next connection (DNS rebinding) or a redirect to an
internal host is refused at that hop, before any packet is sent. `RefusePrivateAddresses`
refuses IP-literal URLs early and turns what was refused into one log line and a counted error."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

# Set to 1 for tests and the demo, which crawl 127.0.0.1; or a comma-separated list of addresses
# and networks to allow ("127.0.0.1,10.0.0.0/8"). Never set it for a crawl of the real sources.
ALLOW_PRIVATE_ENV = "PQWATCH_ALLOW_PRIVATE_ADDRESSES"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CGNAT = ipaddress.ip_network("100.64.0.0/10")  # not in Python's is_private before 3.13
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address inside an IPv6 one
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d form

# host name -> why every address it resolved to was refused, for the middleware's log line.
REFUSED_HOSTS: dict[str, str] = {}


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: Address) -> str | None:
    """Say why a crawl must not connect to an address ("loopback", "private" …); None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = address_refusal(inner)
            return f"{reason}, inside IPv6 {address}" if reason else None
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in CGNAT, "carrier-grade NAT"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not public"),
    )
    return next((reason for refused, reason in checks if refused), None)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a crawl may connect to: public ones, plus whatever the setting allows."""

    allow_all: bool = False
    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, value: object) -> AddressPolicy:
        """Read PQWATCH_ALLOW_PRIVATE_ADDRESSES: empty/0 none, 1 all, else networks; ValueError if bad."""
        text = str(value or "").strip()
        if text.lower() in ("", "0", "false", "no"):
            return cls()
        if text.lower() in ("1", "true", "yes"):
            return cls(allow_all=True)
        try:
            return cls(allowed=tuple(ipaddress.ip_network(part.strip()) for part in text.split(",")))
        except ValueError:
            raise ValueError(f"{ALLOW_PRIVATE_ENV}={text!r} is not 1 or a list of networks") from None

    def refusal(self, host: str) -> str | None:
        """Say why this IP address (text, maybe with an IPv6 zone) is refused; None if allowed."""
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
        except ValueError:
            return f"unreadable address {host!r}"
        if self.allow_all or any(address in network for network in self.allowed):
            return None
        reason = address_refusal(address)
        return f"{address} is {reason}" if reason else None


def literal_address(host: str) -> bool:
    """Say whether a URL's host is an IP literal rather than a name."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    return True


def policy_from_settings(settings: Any) -> AddressPolicy:
    """The policy a crawl's PQWATCH_ALLOW_PRIVATE_ADDRESSES setting names (from the environment)."""
    return AddressPolicy.from_setting(settings.get("PQWATCH_ALLOW_PRIVATE_ADDRESSES"))
