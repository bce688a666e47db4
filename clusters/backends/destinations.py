"""Where a worker or the console proxy may connect: the destination policy.

A cluster's settings and its answers name hosts (the RAPI host, a libvirt URI's host, a VM's
VNC address), and whoever controls the cluster controls those names. Without a policy, a
hostile cluster could make this deployment connect to itself: to Redis, whose queued jobs run
with every credential, to the database, or to any loopback service. So every destination is
resolved once, each address is checked here, and the connection goes to the checked address.

Refused, unless the cluster runs on this machine (a superuser says so in its settings, as for
the demo's local libvirtd):
- loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16,
  fe80::/10) and multicast addresses, in every spelling: getaddrinfo turns "127.1",
  "2130706433" and "0x7f.1" into 127.0.0.1, and IPv6 forms that carry an IPv4 address
  (::ffff:127.0.0.1, ::127.0.0.1, 64:ff9b::7f00:1, 2002:7f00:1::) are judged by that address.

Refused always: the networks of the CLUSTER_BLOCKED_NETWORKS setting, and this deployment's
own services (Redis, the database), given as (host, port):
their address on any port when it is not a local one, their port on any local address (a
service bound to 0.0.0.0 answers on every loopback address).

Plain Python, no Django: clusters/services.py builds the policy from the settings.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from .base import BackendError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class ForbiddenDestination(BackendError):
    """The destination is one this deployment must not connect to; the message says why.
    `loopback`: refused for being a loopback address (the one refusal a console explains)."""

    def __init__(self, message: str, loopback: bool = False):
        super().__init__(message)
        self.loopback = loopback


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), else itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if address in NAT64 or (packed[:12] == bytes(12) and int(address) > 1):
        return ipaddress.IPv4Address(packed[12:])  # NAT64, or deprecated ::a.b.c.d
    return address


def is_loopback(address: IPAddress) -> bool:
    """127.0.0.0/8 or ::1, also when carried inside an IPv6 address."""
    return embedded_ipv4(address).is_loopback


def local_kind(address: IPAddress) -> str | None:
    """ "a loopback address", "an unspecified address"... for such an address, else None."""
    if is_loopback(address):
        return "a loopback address"
    address = embedded_ipv4(address)
    if address.is_unspecified or address in THIS_NETWORK:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    return None


def parse_address(text: str) -> IPAddress:
    """An address as getaddrinfo gives it (an IPv6 one may carry a %scope)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


@dataclass(frozen=True)
class DestinationPolicy:
    # The cluster runs (at least partly) on this machine: its local addresses are allowed.
    on_this_machine: bool = False
    # This deployment's own services, as resolved (address, port) pairs.
    own_services: frozenset[tuple[IPAddress, int]] = field(default_factory=frozenset)
    # Networks closed to every cluster (the CLUSTER_BLOCKED_NETWORKS setting).
    blocked_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def refusal(self, address: IPAddress, port: int, this_machine: bool = False) -> str | None:
        """Why connecting to address:port is refused, in a few words; None when it is allowed.
        `this_machine`: a connected socket showed that the address is one of this machine's."""
        address = embedded_ipv4(address)
        if any(address in network for network in self.blocked_networks):
            return "it is in a network closed to clusters (CLUSTER_BLOCKED_NETWORKS)"
        kind = local_kind(address) or ("one of this machine's addresses" if this_machine else None)
        for service, service_port in self.own_services:
            same_address = embedded_ipv4(service) == address
            if (same_address and (kind is None or service_port == port)) or (
                kind is not None and service_port == port
            ):
                return "it is one of this deployment's own services"
        if kind is not None and not self.on_this_machine:
            return f"it is {kind}, and the cluster is not marked as running on this machine"
        return None

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of host:port to connect to, resolved once: connect to these, not to
        the name. Raises ForbiddenDestination when any address of the name is refused (a name
        that also points here is not one to trust), BackendError when it does not resolve."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            raise BackendError(f"The name {host!r} does not resolve ({exc}).") from None
        addresses = _unique(str(info[4][0]) for info in infos)
        for text in addresses:
            self._check(host, text, port)
        return addresses

    def check_connected(self, sock: socket.socket, host: str = "") -> None:
        """Check where a socket really went: its peer, and whether the peer is this machine
        (a connection to one of our own addresses has the same address at both ends)."""
        peer, local = sock.getpeername(), sock.getsockname()
        this_machine = parse_address(peer[0]) == parse_address(local[0])
        self._check(host or peer[0], peer[0], peer[1], this_machine)

    def _check(self, host: str, text: str, port: int, this_machine: bool = False) -> None:
        address = parse_address(text)
        why = self.refusal(address, port, this_machine)
        if why is not None:
            shown = host if host == text else f"{host} ({text})"
            raise ForbiddenDestination(
                f"ganetiweb does not connect to {shown}, port {port}: {why}.",
                loopback=is_loopback(address) and not self.on_this_machine,
            )


def own_services_of(endpoints: Iterable[tuple[str, int]]) -> frozenset[tuple[IPAddress, int]]:
    """Resolve this deployment's service endpoints (host, port); names that do not resolve
    are left out (the service is then unreachable for everyone)."""
    resolved: set[tuple[IPAddress, int]] = set()
    for host, port in endpoints:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            continue
        resolved.update((parse_address(str(info[4][0])), port) for info in infos)
    return frozenset(resolved)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
