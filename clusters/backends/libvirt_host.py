"""Talking to libvirt hosts: opening a URI, errors as sentences, and reading a host in bulk.

Timeouts: libvirt has no connect timeout, so for remote transports the host's port is first
tried with a plain TCP connection (fast, typed "connection refused"/"no route" errors), and an
open connection gets libvirt keepalive, which needs an event loop: one daemon thread per process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import libvirt

from ._network import ERRNO_REASONS, network_reason
from .base import (
    AuthenticationFailed,
    BackendError,
    NetworkInfo,
    NodeInfo,
    NotFound,
    OperationFailed,
    Timeout,
    Unreachable,
    VMInfo,
)
from .destinations import DestinationPolicy, ForbiddenDestination
from .libvirt_parse import MiB, host_address, parse_domain_xml, parse_network_xml, vm_from_domain
from .libvirt_uri import PROBLEMS, remote_endpoint, uri_problem
from .libvirt_xml import host_uuid

# Only what the inventory uses: the CPU, network and dirty-rate groups cost time on big hosts.
DOMAIN_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)

# Remote transports and the port each uses when the URI names none.

AUTH_ERRORS = frozenset(
    {
        libvirt.VIR_ERR_AUTH_FAILED,
        libvirt.VIR_ERR_AUTH_CANCELLED,
        libvirt.VIR_ERR_AUTH_UNAVAILABLE,
        libvirt.VIR_ERR_ACCESS_DENIED,
        libvirt.VIR_ERR_OPERATION_DENIED,
    }
)
CONNECT_ERRORS = frozenset(
    {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_RPC}
)

# libvirt prints every error on stderr by default; they are raised as exceptions anyway.
libvirt.registerErrorHandler(lambda _context, _error: None, None)


UNDEFINE_FLAGS = (
    libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
)


# --- reading one host


def read_host(conn: libvirt.virConnect, uri: str) -> tuple[NodeInfo, list[VMInfo]]:
    """The host as a node, and its domains as VMs (running or not)."""
    hostname = conn.getHostname()
    address = host_address(uri)
    vms = []
    for domain, stats in conn.getAllDomainStats(DOMAIN_STATS, 0):
        try:
            # SECURE: with the VNC password, which the console proxy needs (the worker reads it).
            xml = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined between the two calls
            raise
        vms.append(vm_from_domain(parse_domain_xml(xml), stats, hostname, address))
    _model, _numa_memory, cpus, *_rest = conn.getInfo()
    memory_total, memory_free = host_memory(conn)
    disk_total, disk_free = _storage_totals(conn)
    node = NodeInfo(
        name=hostname,
        address=address,
        role="regular",
        memory_total=memory_total,
        memory_free=memory_free,
        disk_total=disk_total,
        disk_free=disk_free,
        cpus=cpus,
        primary_count=len(vms),
        uri=uri,
    )
    return node, vms


def host_memory(conn: libvirt.virConnect) -> tuple[int, int]:
    """The host's memory and what VMs could use, in MiB, as Ganeti counts it.

    getInfo() reports the NUMA cells' memory, which some hosts (VMs themselves) under-report;
    the kernel's totals are right. Free counts the page cache, which the kernel gives back.
    """
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        # Drivers without kernel statistics (libvirt's test driver) give the cells' figures.
        return conn.getInfo()[1], conn.getFreeMemory() // MiB
    available = stats["free"] + stats.get("buffers", 0) + stats.get("cached", 0)
    return stats["total"] // 1024, available // 1024


def _storage_totals(conn: libvirt.virConnect) -> tuple[int | None, int | None]:
    """Capacity and free space of the active storage pools, in MiB; None without pools."""
    pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    if not pools:
        return None, None
    total = free = 0
    for pool in pools:
        _state, capacity, _allocation, available = pool.info()
        total += capacity
        free += available
    return total // MiB, free // MiB


def read_networks(conn: libvirt.virConnect) -> list[NetworkInfo]:
    return [parse_network_xml(network.XMLDesc(0)) for network in conn.listAllNetworks(0)]


# --- one host and its domains, for the operations


@dataclass
class Host:
    """An open libvirt host."""

    uri: str
    conn: libvirt.virConnect
    name: str
    uuid: str

    @classmethod
    def of(cls, uri: str, conn: libvirt.virConnect) -> Host:
        with translated(uri):
            return cls(uri, conn, conn.getHostname(), host_uuid(conn.getCapabilities()))

    def free_memory(self) -> int:
        """MiB that VMs could use now, as the inventory counts it."""
        with translated(self.uri):
            return host_memory(self.conn)[1]


def find_domain(conn: libvirt.virConnect, name: str) -> libvirt.virDomain | None:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
        return None


def domain_disks(domain: libvirt.virDomain) -> list[dict[str, str]]:
    """The disks of the VM's configuration (its live XML while it runs)."""
    return parse_domain_xml(domain.XMLDesc(0))["disks"]


def domain_memory(domain: libvirt.virDomain) -> int:
    """The VM's maximum memory in MiB."""
    return domain.maxMemory() // 1024


# --- connections and their errors


def open_host(
    uri: str,
    timeout: float,
    policy: DestinationPolicy | None = None,
    allow_test_driver: bool = False,
) -> libvirt.virConnect:
    """Open a URI within ``timeout`` as far as libvirt allows; errors become BackendErrors.

    The URI must pass libvirt_uri's rules, and its host the destination policy: a local URI
    reaches this machine's libvirtd, so it needs a cluster marked as running here."""
    problem = uri_problem(uri, allow_test_driver)
    if problem is not None:
        raise BackendError(f"ganetiweb does not open the libvirt URI {uri}: {PROBLEMS[problem]}.")
    endpoint = remote_endpoint(uri)
    if endpoint is None and policy is not None and not policy.on_this_machine:
        raise ForbiddenDestination(
            f"The libvirt URI {uri} reaches this machine's own libvirtd, and the cluster is not "
            "marked as running on this machine."
        )
    if endpoint is not None:
        _check_port(uri, endpoint, timeout, policy)
    _start_event_loop()
    with translated(uri):
        conn = libvirt.open(uri)
    # A host that stops answering closes the connection after about `timeout` seconds, and
    # the blocked call fails, instead of hanging the worker.
    interval = max(1, int(timeout / 4))
    with contextlib.suppress(libvirt.libvirtError):  # some drivers have no keepalive
        conn.setKeepAlive(interval, 3)
    return conn


def _check_port(
    uri: str, endpoint: tuple[str, int], timeout: float, policy: DestinationPolicy | None
) -> None:
    """Try the remote transport's TCP port (libvirt.open would wait the OS's timeout), at an
    address the policy allows. libvirt resolves the name again itself; the check here is what
    a name that changes between the two can slip past, and only a superuser sets these URIs."""
    host, port = endpoint
    address = host if policy is None else policy.resolve(host, port)[0]
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise Unreachable(
            f"Cannot reach the libvirt host {uri}: no answer on port {port} within {timeout:g} s."
        ) from None
    except OSError as exc:
        raise Unreachable(f"Cannot reach the libvirt host {uri}: {network_reason(exc)}.") from None
    with sock:
        if policy is not None:
            policy.check_connected(sock, host)


@contextlib.contextmanager
def translated(uri: str) -> Iterator[None]:
    """Turn a libvirtError raised inside the block into the matching BackendError."""
    try:
        yield
    except libvirt.libvirtError as exc:
        raise libvirt_error(exc, uri) from exc


def libvirt_error(exc: libvirt.libvirtError, uri: str) -> BackendError:
    """A libvirtError as a typed error whose message names the host."""
    code = exc.get_error_code()
    message = exc.get_error_message() or str(exc)
    if code in AUTH_ERRORS:
        return AuthenticationFailed(f"The libvirt host {uri} refused access: {message}.")
    if code == libvirt.VIR_ERR_OPERATION_TIMEOUT or "keepalive timeout" in message:
        return Timeout(f"The libvirt host {uri} did not answer in time: {message}.")
    if code in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_NO_NETWORK):
        return NotFound(f"The libvirt host {uri} has no such object: {message}.")
    if code in CONNECT_ERRORS and _about_the_connection(exc):
        errno_reason = ERRNO_REASONS.get(exc.get_int1() or 0)
        if errno_reason is None and message.startswith("Unable to resolve address"):
            errno_reason = "the name does not resolve"
        if exc.get_int1() == errno.ETIMEDOUT:
            return Timeout(f"The libvirt host {uri} did not answer in time: {message}.")
        return Unreachable(f"Cannot reach the libvirt host {uri}: {errno_reason or message}.")
    return OperationFailed(f"The libvirt host {uri} refused: {message}.")


def _about_the_connection(exc: libvirt.libvirtError) -> bool:
    """Whether the error is the connection's: a system error is, only from the RPC layer (a
    QEMU that cannot start on a missing device is a system error too)."""
    if exc.get_error_code() != libvirt.VIR_ERR_SYSTEM_ERROR:
        return True
    return exc.get_error_domain() in (libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE)


_event_loop_pid: int | None = None
_event_loop_lock = threading.Lock()


def _start_event_loop() -> None:
    """Run libvirt's default event loop in a daemon thread, once per process.

    Keepalive needs it. The implementation is registered once; a forked worker inherits the
    registration but not the thread, so it starts its own.
    """
    global _event_loop_pid
    with _event_loop_lock:
        if _event_loop_pid == os.getpid():
            return
        if _event_loop_pid is None:
            libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run_event_loop, name="libvirt-events", daemon=True).start()
        _event_loop_pid = os.getpid()


def _run_event_loop() -> None:
    while True:
        if libvirt.virEventRunDefaultImpl() < 0:
            time.sleep(0.1)  # do not spin if the loop keeps failing
