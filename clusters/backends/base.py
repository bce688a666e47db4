"""The one interface every backend implements, the shapes it returns, and its typed errors.

Sizes are in MiB everywhere. Times are aware UTC datetimes or None.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .destinations import DestinationPolicy

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
    timeout: float = 15.0  # for each connect and each read
    # Each request ends within this many seconds (or its own longer timeout), however slowly
    # the answer trickles in, and its answer is at most max_answer_bytes long.
    deadline: float = 120.0
    max_answer_bytes: int = 64 * 1024 * 1024
    # Where the client may connect (destinations.py); None: anywhere, for code that builds a
    # connection by hand. clusters/services.py always gives one.
    policy: DestinationPolicy | None = None


@dataclass(frozen=True)
class LibvirtConnection:
    uris: tuple[str, ...]
    timeout: float = 15.0
    policy: DestinationPolicy | None = None
    allow_test_driver: bool = False  # test:///PATH reads a file: for the test suite only


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
    # libvirt's graphics passwd, for the console proxy only (vms/console_tickets.py).
    vnc_password: str = field(default="", repr=False)


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


@dataclass
class VMSample:
    """One VM's raw readings. Counters only grow while the VM runs; None: not given.

    `run` changes whenever the counters may start again from zero (a restart, a move to
    another host): a rate is only taken between two readings of the same run.
    """

    name: str  # as the backend knows it
    node: str = ""
    run: str = ""
    vcpus: int | None = None
    cpu_time_ns: int | None = None
    memory_used_mib: float | None = None
    block_read_bytes: int | None = None
    block_write_bytes: int | None = None
    block_read_requests: int | None = None
    block_write_requests: int | None = None
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None


@dataclass
class NodeSample:
    """One node's raw readings: CPU time counters (busy and in all, ns) or a CPU gauge."""

    name: str
    run: str = ""
    cpus: int | None = None
    cpu_busy_ns: int | None = None
    cpu_total_ns: int | None = None
    cpu_percent: float | None = None  # where the host gives a gauge (Ganeti's mond)
    load1: float | None = None
    memory_used_mib: float | None = None
    memory_total_mib: float | None = None
    disk_used_mib: float | None = None
    disk_total_mib: float | None = None


@dataclass
class Sample:
    """What one sampling round read from a cluster (Backend.sample)."""

    at: datetime  # when the reading was taken (aware UTC)
    vms: list[VMSample] = field(default_factory=list)
    nodes: list[NodeSample] = field(default_factory=list)
    # The figures this cluster cannot give, in a few words each for its page.
    unavailable: list[str] = field(default_factory=list)


class Backend(abc.ABC):
    """Read a cluster's state. Operations (create, power, migrate) join in the lifecycle work."""

    @abc.abstractmethod
    def test_connection(self) -> ConnectionReport:
        """Reach the cluster and authenticate; raise a BackendError saying what is wrong."""

    @abc.abstractmethod
    def fetch_inventory(self) -> Inventory:
        """Read nodes, VMs, networks and OS list in bulk."""

    def sample(self) -> Sample:
        """Read the raw metric figures of every node and VM in bulk (for the metrics job)."""
        raise NotImplementedError(f"{type(self).__name__} gives no metrics")

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing open)
        """Release connections."""


# --- Operations (the lifecycle). Workers call them; each blocks until the operation has ended
# on the cluster, reports what happens through a Progress, and raises a BackendError saying why
# when it fails. A failed operation must leave the VM as it was whenever the cluster allows.


class Progress:
    """What an operation tells the job running it. The job runner passes a real one."""

    def log(self, message: str) -> None:
        """A line for the job's log (Ganeti's oplog lines arrive here)."""

    def percent(self, value: int) -> None:
        """How far the operation is, 0 to 100, when the backend can tell."""

    def remote_job(self, job_id: str) -> None:
        """The cluster's own job id (Ganeti), recorded at once so that a worker that dies can
        have its successor follow the same job to its real end."""


@dataclass
class NicSpec:
    network: str = ""  # a Ganeti network, or a libvirt network
    link: str = ""  # a bridge (Ganeti link, libvirt bridge)
    mode: str = ""  # Ganeti: bridged, routed, openvswitch; empty = the cluster's default
    ip: str = ""  # "" = none; Ganeti also takes "pool"
    mac: str = ""  # "" = generated


@dataclass
class VMSpec:
    """A VM to create. Sizes in MiB."""

    name: str
    memory: int
    vcpus: int
    disk_template: str  # Ganeti: drbd, plain, file, sharedfile, diskless; libvirt: file, diskless
    disks: list[int] = field(default_factory=list)  # sizes
    nics: list[NicSpec] = field(default_factory=list)
    os: str = ""
    # Placement: a node chosen by the planner or an admin, or the cluster's iallocator.
    primary_node: str = ""
    secondary_node: str = ""
    iallocator: str = ""
    primary_uri: str = ""  # libvirt: the URI of primary_node's host
    start: bool = True
    tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The spec as a job's or a request's JSON parameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> VMSpec:
        fields = dict(data)
        fields["nics"] = [NicSpec(**nic) for nic in fields.get("nics", [])]
        return cls(**fields)


@dataclass
class VMChanges:
    """A modification; None or empty means unchanged."""

    memory: int | None = None
    vcpus: int | None = None
    grow_disks: dict[int, int] = field(default_factory=dict)  # disk index -> MiB to add
    add_nics: list[NicSpec] = field(default_factory=list)
    remove_nics: list[int] = field(default_factory=list)  # NIC indexes, removed last first

    def to_json(self) -> dict:
        """The changes as a job's JSON parameters (JSON keys are strings)."""
        data = asdict(self)
        data["grow_disks"] = {str(index): size for index, size in self.grow_disks.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> VMChanges:
        fields = dict(data)
        fields["grow_disks"] = {int(k): v for k, v in fields.get("grow_disks", {}).items()}
        fields["add_nics"] = [NicSpec(**nic) for nic in fields.get("add_nics", [])]
        return cls(**fields)


class Operations(abc.ABC):
    """The lifecycle operations of a backend. `vm` is the VM's name on the cluster; `node` a
    node's name; `uri` the libvirt host URI of the VM's primary node (ignored by Ganeti)."""

    @abc.abstractmethod
    def create_vm(self, spec: VMSpec, progress: Progress) -> None: ...

    @abc.abstractmethod
    def start_vm(self, vm: str, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def shutdown_vm(self, vm: str, timeout: int, progress: Progress, uri: str = "") -> None:
        """Ask the guest to power off; after `timeout` seconds the operation fails (the VM is
        left running) unless the backend's own semantics force it (Ganeti's shutdown timeout
        forces the power-off, as `gnt-instance shutdown --timeout` does)."""

    @abc.abstractmethod
    def force_off_vm(self, vm: str, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def reboot_vm(self, vm: str, progress: Progress, uri: str = "", hard: bool = False) -> None: ...

    @abc.abstractmethod
    def migrate_vm(
        self,
        vm: str,
        progress: Progress,
        uri: str = "",
        target_node: str = "",
        target_uri: str = "",
    ) -> None:
        """Live-migrate to `target_node` (or let the cluster choose where it can)."""

    @abc.abstractmethod
    def failover_vm(self, vm: str, progress: Progress, target_node: str = "") -> None: ...

    @abc.abstractmethod
    def modify_vm(self, vm: str, changes: VMChanges, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def rename_vm(self, vm: str, new_name: str, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def reinstall_vm(self, vm: str, os: str, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def delete_vm(self, vm: str, progress: Progress, uri: str = "") -> None: ...

    @abc.abstractmethod
    def read_vm(self, vm: str, uri: str = "") -> VMInfo:
        """The VM as the cluster sees it now, to refresh its row after an operation."""

    @abc.abstractmethod
    def set_node_role(self, node: str, role: str, progress: Progress) -> None:
        """role: offline, drained or regular (back online)."""

    @abc.abstractmethod
    def migrate_node(self, node: str, progress: Progress) -> None:
        """Live-migrate every primary VM of the node away."""

    @abc.abstractmethod
    def evacuate_node(self, node: str, progress: Progress) -> None:
        """Move every VM (primary and secondary) off the node."""

    def follow_remote_job(self, job_id: str, progress: Progress) -> None:
        """Follow a cluster job submitted by a worker that died, to its real end."""
        raise NotImplementedError(f"{type(self).__name__} has no remote jobs to follow")
