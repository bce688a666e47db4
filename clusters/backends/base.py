"""The one interface every backend implements, the shapes it returns, and its typed errors.

Sizes are in MiB everywhere. Times are aware UTC datetimes or None.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime

# --- Errors: every failure talking to a cluster becomes one of these, with a message a person
# understands. Jobs record them; pages show them.


class BackendError(Exception):
    """A cluster could not do what was asked; str(error) is a sentence for the user."""


class Unreachable(BackendError):
    """The host did not answer (refused, no route, name does not resolve)."""


class Timeout(BackendError):
    """The host accepted the connection but did not answer in time."""


class AuthenticationFailed(BackendError):
    """The user name or password was refused, or the user lacks the rights needed."""


class CertificateMismatch(BackendError):
    """The TLS certificate is not the trusted one (wrong CA, or not the pinned fingerprint).

    `fingerprint` is the SHA-256 fingerprint the server presented, so an admin can pin it.
    """

    def __init__(self, message: str, fingerprint: str | None = None):
        super().__init__(message)
        self.fingerprint = fingerprint


class MalformedAnswer(BackendError):
    """The host answered something that is not what its API promises."""


class NotFound(BackendError):
    """The object asked for does not exist on the cluster."""


class OperationFailed(BackendError):
    """The cluster refused or failed an operation; the message carries its reason."""


# --- Connection settings, given by the caller (the worker builds them from a Cluster row).


@dataclass(frozen=True)
class GanetiConnection:
    host: str
    port: int = 5080
    username: str = ""
    password: str = ""
    # Exactly one way to trust the certificate: a CA bundle (PEM text), or a pinned SHA-256
    # fingerprint (hex, colons allowed). With neither, the certificate is not trusted and the
    # error carries the fingerprint seen, for the admin to confirm.
    ca_bundle_pem: str = ""
    pinned_fingerprint: str = ""
    timeout: float = 15.0


@dataclass(frozen=True)
class LibvirtConnection:
    uris: tuple[str, ...]
    timeout: float = 15.0


# --- What a backend reads from a cluster.


@dataclass
class ClusterInfo:
    name: str
    software_version: str = ""
    enabled_disk_templates: list[str] = field(default_factory=list)
    enabled_hypervisors: list[str] = field(default_factory=list)
    default_iallocator: str = ""
    # Ganeti's instance policy as RAPI gives it (minmax, std, disk-templates, vcpu-ratio...).
    ipolicy: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass
class NodeInfo:
    name: str
    address: str = ""
    # one of: master, candidate, regular, drained, offline
    role: str = "regular"
    memory_total: int | None = None
    memory_free: int | None = None
    disk_total: int | None = None
    disk_free: int | None = None
    cpus: int | None = None
    primary_count: int = 0
    secondary_count: int = 0
    uri: str = ""  # libvirt only
    uuid: str = ""


@dataclass
class DiskInfo:
    size: int  # MiB
    name: str = ""
    uuid: str = ""


@dataclass
class NicInfo:
    mac: str = ""
    ip: str = ""
    mode: str = ""  # bridged, routed, openvswitch; libvirt: network, bridge, user...
    link: str = ""  # bridge or link name
    network: str = ""  # network name where the cluster has networks
    name: str = ""
    model: str = ""  # libvirt only: virtio, e1000...


@dataclass
class VMInfo:
    name: str
    uuid: str = ""
    primary_node: str = ""
    secondary_nodes: list[str] = field(default_factory=list)
    # wanted: up, down, offline.  actual: running, stopped, paused, error, unknown
    wanted_state: str = "down"
    actual_state: str = "unknown"
    status: str = ""  # the cluster's own word for the state, e.g. ERROR_nodedown
    memory: int = 0
    vcpus: int = 0
    disk_template: str = ""
    disks: list[DiskInfo] = field(default_factory=list)
    nics: list[NicInfo] = field(default_factory=list)
    os: str = ""
    tags: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    modified_at: datetime | None = None
    vnc_host: str = ""
    vnc_port: int | None = None


@dataclass
class NetworkInfo:
    name: str
    kind: str  # ganeti, libvirt, bridge
    subnet: str = ""
    gateway: str = ""
    subnet6: str = ""
    gateway6: str = ""
    free_count: int | None = None
    reserved_count: int | None = None
    uuid: str = ""


@dataclass
class Inventory:
    """Everything a sync needs, read in bulk in one go."""

    info: ClusterInfo
    nodes: list[NodeInfo]
    vms: list[VMInfo]
    networks: list[NetworkInfo] = field(default_factory=list)
    operating_systems: list[str] = field(default_factory=list)


@dataclass
class ConnectionReport:
    """What 'test connection' found: enough for the admin to trust (or fix) the settings."""

    cluster_name: str
    software_version: str
    node_count: int
    certificate_fingerprint: str = ""


class Backend(abc.ABC):
    """Read a cluster's state. Operations (create, power, migrate) join in the lifecycle work."""

    @abc.abstractmethod
    def test_connection(self) -> ConnectionReport:
        """Reach the cluster and authenticate; raise a BackendError saying what is wrong."""

    @abc.abstractmethod
    def fetch_inventory(self) -> Inventory:
        """Read nodes, VMs, networks and OS list in bulk."""

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing open)
        """Release connections."""
