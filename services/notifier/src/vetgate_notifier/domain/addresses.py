"""Where a hook may point (SSRF guard rules): https only, and only to public unicast addresses."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Carrier-grade NAT (RFC 6598) is not "private" to the ipaddress module, but it is not the internet.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# NAT64 (RFC 6052) embeds an IPv4 address the gateway would connect to on our behalf.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class HookPolicy:
    allow_loopback: bool = False
    """The dev stack only: hooks on 127.0.0.0/8 and ::1 (and plain http) are accepted."""


def refusal_for_address(ip: IPAddress, policy: HookPolicy) -> str | None:
    """Why connecting to ``ip`` is refused, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None or ip in _NAT64:
            # An IPv4 address in IPv6 clothing: refused outright rather than judged by what it hides.
            return f"{ip} is an IPv4-embedding IPv6 address"
    if ip.is_loopback:
        return None if policy.allow_loopback else f"{ip} is a loopback address"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, kind in checks:
        if hit:
            return f"{ip} is a {kind} address"
    return None


def refusal_for_url(url: str, policy: HookPolicy) -> str | None:
    """Why a hook URL is refused before any lookup, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "the hook URL is malformed"
    if parts.scheme != "https" and not (policy.allow_loopback and parts.scheme == "http"):
        return "the hook URL must use https"
    if not parts.hostname:
        return "the hook URL has no host"
    if parts.username or parts.password:
        return "the hook URL must not carry credentials"
    return None
