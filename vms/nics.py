"""Where a VM's network interfaces may go on a cluster, and which addresses they may take.

A NIC goes on one of the cluster's networks (synced from it), on a link a superuser approved
for the cluster (`Cluster.nic_links`), or on the cluster's default. Its address, if it has
one, lies inside its network's subnet, is not the subnet's own address, broadcast or gateway,
and is no other VM's (nor its MAC address). Free text here once let a requester put a VM on
the management or DRBD bridge, or take over another VM's address.

The create and modify forms show these rules beside the fields; the services apply them again
to every creation and modification they queue (vms/services.py), whoever asks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from clusters.choices import ClusterKind
from jobs.models import Job
from vms.models import VirtualMachine

# The kinds of job that bring NICs (JobKind.CREATE and JobKind.MODIFY): named here, since
# vms.operations imports the forms that import this module.
NIC_JOB_KINDS = ("create", "modify")

# Ganeti's NIC modes for a NIC on a link. A routed NIC's address becomes a route on the node
# (in the link's routing table: the cluster's default or an approved link), so without a
# network to check it against it must at least be a plain unicast address no other VM has.
GANETI_MODES = ("bridged", "openvswitch", "routed")
# libvirt has no mode: a NIC is on a network or on a bridge; the words are accepted as such.
LIBVIRT_MODES = ("bridge", "network")
POOL = "pool"  # Ganeti picks a free address of the network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class NicRules:
    """The networks, links and modes one cluster offers, and the addresses taken on it."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.ganeti = cluster.kind == ClusterKind.GANETI
        self.networks = {network.name: network for network in cluster.networks.all()}
        self.links = cluster.link_list
        self.modes = GANETI_MODES if self.ganeti else LIBVIRT_MODES
        self._taken: tuple[set[Address], set[str]] | None = None

    def taken(self) -> tuple[set[Address], set[str]]:
        """(addresses, MAC addresses) of the cluster's VMs and of those being created or
        given a NIC now; read once, when a NIC first asks for an address or a MAC."""
        if self._taken is None:
            nics: list[Mapping] = []
            rows = VirtualMachine.objects.filter(cluster=self.cluster, missing=False)
            for vm_nics in rows.values_list("nics", flat=True):
                nics += vm_nics or []
            queued = Job.objects.filter(cluster=self.cluster, kind__in=NIC_JOB_KINDS).unfinished()
            for params in queued.values_list("params", flat=True):
                nics += (params.get("spec") or {}).get("nics") or []
                nics += (params.get("changes") or {}).get("add_nics") or []
            addresses = {_address(nic.get("ip", "")) for nic in nics}
            macs = {str(nic.get("mac", "")).lower() for nic in nics}
            self._taken = ({a for a in addresses if a is not None}, macs - {""})
        return self._taken

    def problems(self, nic: Mapping) -> dict[str | None, str]:
        """What is wrong with one NIC, by form field (None: the NIC as a whole)."""
        network, link = nic.get("network") or "", nic.get("link") or ""
        mode, ip = nic.get("mode") or "", (nic.get("ip") or "").strip()
        mac = (nic.get("mac") or "").strip().lower()
        names = {"cluster": self.cluster.name}
        found: dict[str | None, str] = {}
        if network and network not in self.networks:
            found["network"] = _("%(cluster)s has no network %(name)s.") % {
                **names,
                "name": network,
            }
        if link and link not in self.links:
            found["link"] = unknown_link(self.cluster, link)
        if mode and mode not in self.modes:
            found["mode"] = _("%(mode)s is not a NIC mode on %(cluster)s.") % {
                **names,
                "mode": mode,
            }
        if network and (link or (mode and mode != "network")):
            found[None] = _("Give a network, or a link and mode, not both: the network sets them.")
        elif not self.ganeti and not (network or link):
            # libvirt has no default network for a NIC (clusters/backends/libvirt_create.py).
            found[None] = _("A NIC on libvirt hosts goes on a network or a link: choose one.")
        if ip:
            problem = self._address_problem(ip, self.networks.get(network), mode)
            if problem:
                found["ip"] = problem
        if mac and mac in self.taken()[1]:
            found["mac"] = _("%(mac)s is the MAC address of another VM on %(cluster)s.") % {
                **names,
                "mac": mac,
            }
        return found

    def _address_problem(self, ip: str, network, mode: str = "") -> str | None:
        if not self.ganeti:
            return _("libvirt hosts do not set a NIC's address: leave it empty.")
        if ip == POOL:
            if network is None:
                return _("Only a network has a pool of addresses: choose one, or no address.")
            return None
        address = _address(ip)
        if address is None:
            return _("%(ip)s is not an IP address (or “pool”).") % {"ip": ip}
        if network is None and mode == "routed":
            return self._routed_address_problem(ip, address)
        if network is None:
            return _(
                "An address needs one of the cluster's networks, to check it against: "
                "choose one, or leave the address empty."
            )
        subnet_text, gateway = (
            (network.subnet, network.gateway)
            if address.version == 4
            else (network.subnet6, network.gateway6)
        )
        subnet = _subnet(subnet_text)
        names = {"ip": ip, "network": network.name, "subnet": subnet_text}
        if subnet is None:
            return _("The network %(network)s has no IPv%(version)s subnet.") % {
                **names,
                "version": address.version,
            }
        if address not in subnet:
            return _("%(ip)s is not in the network %(network)s (%(subnet)s).") % names
        if address in _reserved(subnet) or address == _address(gateway):
            return (
                _("%(ip)s is the network's own address, broadcast or gateway in %(network)s.")
                % names
            )
        if address in self.taken()[0]:
            return _("%(ip)s is the address of another VM on %(cluster)s.") % {
                "ip": ip,
                "cluster": self.cluster.name,
            }
        return None

    def _routed_address_problem(self, ip: str, address: Address) -> str | None:
        """A routed NIC's address outside any network: a route this VM will answer for."""
        special = (
            address.is_loopback,
            address.is_link_local,
            address.is_multicast,
            address.is_unspecified,
            address.is_reserved,
        )
        if any(special):
            return _("%(ip)s is not an address a VM may route to.") % {"ip": ip}
        if address in self.taken()[0]:
            return _("%(ip)s is the address of another VM on %(cluster)s.") % {
                "ip": ip,
                "cluster": self.cluster.name,
            }
        return None


def unknown_link(cluster, link: str) -> str:
    return _("%(cluster)s does not offer the link %(link)s: choose one of its links.") % {
        "cluster": cluster.name,
        "link": link,
    }


def duplicates(nics: Iterable[Mapping]) -> list[str]:
    """Addresses or MAC addresses given to two of the NICs asked for at once."""
    seen: set = set()
    found = []
    for nic in nics:
        ip = (nic.get("ip") or "").strip()
        mac = (nic.get("mac") or "").strip().lower()
        for key in (_address(ip) if ip != POOL else None, mac or None):
            if key is None:
                continue
            if key in seen:
                found.append(_("Two NICs cannot both have %(value)s.") % {"value": key})
            seen.add(key)
    return found


def check(cluster, nics: Iterable[Mapping]) -> list[str]:
    """Every problem of the NICs asked for, in words (empty: they may go on the cluster)."""
    nics = list(nics)
    if not nics:
        return []
    rules = NicRules(cluster)
    found = []
    for number, nic in enumerate(nics, start=1):
        for problem in rules.problems(nic).values():
            found.append(_("NIC %(number)s: %(problem)s") % {"number": number, "problem": problem})
    return found + duplicates(nics)


def _address(text) -> Address | None:
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        return None


def _subnet(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False) if text.strip() else None
    except ValueError:
        return None


def _reserved(subnet) -> set:
    """The subnet's own address and its broadcast (none for /31, /32 and /127, /128)."""
    if subnet.num_addresses <= 2:
        return set()
    if subnet.version == 4:
        return {subnet.network_address, subnet.broadcast_address}
    return {subnet.network_address}  # the subnet-router anycast address
