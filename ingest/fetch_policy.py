"""Which addresses a fetch may connect to: anything for the owner, public addresses only for web visitors.

A web visitor who can make the server fetch a URL can otherwise read what only the server can reach: its
loopback services, the private network, a cloud metadata endpoint. So a fetch for a visitor connects only to
public addresses, plus the hosts and networks the owner lists in ``NEWSRAG_FETCH_ALLOW``. The check is made
on the address a connection is actually opened to (``ingest/fetch_guard.py``), not on the URL's spelling:
``127.1``, ``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]`` and a name resolving to 127.0.0.1 are all
the same loopback address once resolved.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not private by name, not public either
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address
ALLOW_SETTING = "NEWSRAG_FETCH_ALLOW"
log = logging.getLogger(__name__)
URL_INGEST_OFF = "adding articles by URL or feed is turned off on this server (NEWSRAG_APP_URL_INGEST=false)"


def parse_ip(text: str) -> IPAddress:
    """An address as a socket reports it (an IPv6 zone like ``%eth0`` dropped); ValueError if it is none."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64), which is where it leads."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def not_public(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address ("loopback", "private", ...), or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:  # the connection leads to the IPv4 address: that one decides
            reason = not_public(inner)
            return f"{reason}, inside the IPv6 address {ip}" if reason else None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in CGNAT, "shared (carrier-grade NAT)"),
        (ip in UNIQUE_LOCAL, "unique-local"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _host_key(host: str) -> str:
    """A host name as compared with the allow-list: lower case, no brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class FetchPolicy:
    """Where fetches may connect. ``trusted``: anywhere (the owner's CLI and Python API)."""

    trusted: bool = True
    enabled: bool = True  # False: no URL is fetched at all (URL ingest turned off in the app)
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def for_visitors(cls, allow: str = "", enabled: bool = True) -> FetchPolicy:
        """Public addresses, plus ``allow``: comma-separated host names, addresses or networks (CIDR)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (_host_key(e) for e in allow.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(trusted=False, enabled=enabled, hosts=frozenset(hosts), networks=tuple(networks))

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to ``ip`` (which ``host`` resolved to) is not allowed, or None when it is."""
        if self.trusted or _host_key(host) in self.hosts:
            return None
        # An IPv4-mapped address reaches the IPv4 one: an allowed 10.0.0.0/8 allows ::ffff:10.1.2.3 too.
        plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        if any(plain in network for network in self.networks):
            return None
        reason = not_public(plain)
        if reason is None:
            return None
        # Neither the address a name resolved to nor its kind is said: visitors read this message, and could map
        # the internal DNS with it (item 9). The server's log keeps the detail for the owner.
        log.info("refused to fetch from %s (%s): not a public address (%s)", host, plain, reason)
        return (
            f"refused to fetch from {host}: not a public address; the app fetches only public"
            f" addresses for web visitors ({ALLOW_SETTING} allows others)"
        )


TRUSTED = FetchPolicy()
