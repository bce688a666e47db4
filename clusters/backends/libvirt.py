"""libvirt hosts: a libvirt "cluster" is a set of host URIs, each one a node.

Each read opens every URI, reads it in bulk (``getAllDomainStats`` for all domains at once,
then one ``XMLDesc`` per domain for its devices) and closes it again. The pieces live in
their own modules:

- ``libvirt_parse``: pure functions (``parse_domain_xml``, ``parse_network_xml``,
  ``vm_from_domain``), tested and benchmarked without a libvirtd;
- ``libvirt_host``: opening a URI within a timeout, errors as sentences, reading one host;
- ``libvirt_ops`` and ``libvirt_xml``: the lifecycle operations and the XML they define.

Their public names are importable from here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import libvirt

from .base import (
    Backend,
    BackendError,
    ClusterInfo,
    ConnectionReport,
    Inventory,
    LibvirtConnection,
    NetworkInfo,
    NodeInfo,
    NodeSample,
    Sample,
    VMInfo,
    VMSample,
)
from .libvirt_host import (
    DOMAIN_STATS,
    libvirt_error,
    open_host,
    read_host,
    read_networks,
    translated,
)
from .libvirt_ops import LibvirtOperations
from .libvirt_parse import (
    DOMAIN_STATES,
    MiB,
    host_address,
    parse_domain_xml,
    parse_network_xml,
    version_text,
    vm_from_domain,
)
from .libvirt_sample import sample_host

__all__ = [
    "DOMAIN_STATES",
    "DOMAIN_STATS",
    "LibvirtBackend",
    "MiB",
    "host_address",
    "libvirt_error",
    "open_host",
    "parse_domain_xml",
    "parse_network_xml",
    "read_host",
    "read_networks",
    "translated",
    "vm_from_domain",
]


class LibvirtBackend(Backend, LibvirtOperations):
    """A set of libvirt hosts, one node per URI; its operations are in libvirt_ops."""

    def __init__(self, connection: LibvirtConnection):
        if not connection.uris:
            raise BackendError("The libvirt cluster has no host URIs; add at least one.")
        self.connection = connection

    def test_connection(self) -> ConnectionReport:
        """Open every URI; report the first host's name and libvirt version, and the count."""
        names, version = [], ""
        for uri in self.connection.uris:
            with self._host(uri) as conn, translated(uri):
                names.append(conn.getHostname())
                version = version or version_text(conn.getLibVersion())
        return ConnectionReport(
            cluster_name=names[0], software_version=f"libvirt {version}", node_count=len(names)
        )

    def fetch_inventory(self) -> Inventory:
        """Read every host; one unreachable host fails the whole read.

        A partial inventory would make the sync believe the missing host's VMs were gone.
        Networks of the same name on several hosts are listed once (the first host's).
        """
        nodes: list[NodeInfo] = []
        vms: list[VMInfo] = []
        networks: dict[str, NetworkInfo] = {}
        hypervisors: dict[str, str] = {}
        version = ""
        for uri in self.connection.uris:
            with self._host(uri) as conn, translated(uri):
                node, host_vms = read_host(conn, uri)
                nodes.append(node)
                vms += host_vms
                for network in read_networks(conn):
                    networks.setdefault(network.name, network)
                hypervisors[node.name] = f"{conn.getType()} {version_text(conn.getVersion())}"
                version = version or version_text(conn.getLibVersion())
        info = ClusterInfo(
            name=nodes[0].name,
            software_version=f"libvirt {version}",
            enabled_hypervisors=sorted({h.split()[0].lower() for h in hypervisors.values()}),
            extra={"hypervisors": hypervisors, "uris": list(self.connection.uris)},
        )
        return Inventory(info=info, nodes=nodes, vms=vms, networks=list(networks.values()))

    def sample(self) -> Sample:
        """Read every host's and running VM's metric figures, one bulk call per host.

        Unlike the inventory, a host that does not answer only loses its own figures (the
        page says which); when no host answers, the error of the first one is raised.
        """
        at = datetime.now(UTC)
        nodes: list[NodeSample] = []
        vms: list[VMSample] = []
        unavailable: set[str] = set()
        errors: list[BackendError] = []
        for uri in self.connection.uris:
            try:
                with self._host(uri) as conn, translated(uri):
                    node, host_vms, missing = sample_host(conn, uri)
            except BackendError as exc:
                errors.append(exc)
                unavailable.add(f"figures of {uri} (it does not answer)")
                continue
            nodes.append(node)
            vms += host_vms
            unavailable |= missing
        if not nodes and errors:
            raise errors[0]
        return Sample(at=at, vms=vms, nodes=nodes, unavailable=sorted(unavailable))

    @contextlib.contextmanager
    def _host(self, uri: str) -> Iterator[libvirt.virConnect]:
        if uri not in self.connection.uris:
            raise BackendError(f"{uri} is not one of the cluster's libvirt hosts.")
        conn = open_host(
            uri, self.connection.timeout, self.connection.policy, self.connection.allow_test_driver
        )
        try:
            yield conn
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
