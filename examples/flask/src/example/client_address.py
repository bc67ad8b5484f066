"""Which address a request comes from: the login limit's key and the auth log lines' `client`.

The TCP peer, unless it is one of TRUSTED_PROXIES (addresses or networks); then the right-most
X-Forwarded-For entry that is not a trusted proxy (each proxy appends the address it saw, so
the entries on the left are whatever the client chose to send). An X-Forwarded-For from a peer
that is not a trusted proxy is ignored: spoofing it changes nothing. The production server
trusts the same proxies for its own use of the forwarded headers (server.py).
"""

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(entry: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An X-Forwarded-For entry's address: `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`."""
    entry = entry.strip()
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        return ipaddress.ip_address(entry)
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]
) -> str:
    """The client's address, from the TCP `peer`, the X-Forwarded-For header lines and the
    trusted `proxies`."""
    if not peer:
        return "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",") if hop.strip()]
    if not hops:
        return peer
    # Every hop a trusted proxy: the left-most is the closest to the client.
    client = next((hop for hop in reversed(hops) if not _trusted(hop, proxies)), hops[0])
    address = _address(client)
    # Not an address (a misconfigured proxy): kept, but short (it goes into keys and logs).
    return str(address) if address is not None else client[:64]
