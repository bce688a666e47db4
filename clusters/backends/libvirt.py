"""libvirt hosts: a libvirt "cluster" is a set of host URIs, each one a node.

Each read opens every URI, reads it in bulk (``getAllDomainStats`` for all domains at once,
then one ``XMLDesc`` per domain for its devices) and closes it again. The XML parsing is in
pure functions (``parse_domain_xml``, ``parse_network_xml``, ``vm_from_domain``) so it can be
tested and benchmarked without a libvirtd.

Timeouts: libvirt has no connect timeout, so for remote transports the host's port is first
tried with a plain TCP connection (fast, typed "connection refused"/"no route" errors), and an
open connection gets libvirt keepalive, which needs an event loop: one daemon thread per process.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import threading
import time
import xml.etree.ElementTree as ET  # noqa: S405 (the XML comes from the libvirtd we were given)
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import libvirt

from ._network import ERRNO_REASONS, network_reason
from .base import (
    AuthenticationFailed,
    Backend,
    BackendError,
    ClusterInfo,
    ConnectionReport,
    DiskInfo,
    Inventory,
    LibvirtConnection,
    MalformedAnswer,
    NetworkInfo,
    NicInfo,
    NodeInfo,
    NotFound,
    OperationFailed,
    Timeout,
    Unreachable,
    VMInfo,
)

MiB = 1024 * 1024

# libvirt state -> (our actual state, libvirt's word for it)
DOMAIN_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: ("unknown", "nostate"),
    libvirt.VIR_DOMAIN_RUNNING: ("running", "running"),
    libvirt.VIR_DOMAIN_BLOCKED: ("running", "blocked"),
    libvirt.VIR_DOMAIN_PAUSED: ("paused", "paused"),
    libvirt.VIR_DOMAIN_SHUTDOWN: ("running", "shutdown"),  # shutting down, still running
    libvirt.VIR_DOMAIN_SHUTOFF: ("stopped", "shutoff"),
    libvirt.VIR_DOMAIN_CRASHED: ("error", "crashed"),
    libvirt.VIR_DOMAIN_PMSUSPENDED: ("paused", "pmsuspended"),
}

# Only what the inventory uses: the CPU, network and dirty-rate groups cost time on big hosts.
DOMAIN_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)

# Remote transports and the port each uses when the URI names none.
DEFAULT_PORTS = {"tcp": 16509, "tls": 16514, "ssh": 22, "libssh": 22, "libssh2": 22}

LOCAL_ADDRESS = "127.0.0.1"
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (read from XML, never bound)

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


class LibvirtBackend(Backend):
    """A set of libvirt hosts, one node per URI."""

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
                version = version or _version(conn.getLibVersion())
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
                hypervisors[node.name] = f"{conn.getType()} {_version(conn.getVersion())}"
                version = version or _version(conn.getLibVersion())
        info = ClusterInfo(
            name=nodes[0].name,
            software_version=f"libvirt {version}",
            enabled_hypervisors=sorted({h.split()[0].lower() for h in hypervisors.values()}),
            extra={"hypervisors": hypervisors, "uris": list(self.connection.uris)},
        )
        return Inventory(info=info, nodes=nodes, vms=vms, networks=list(networks.values()))

    @contextlib.contextmanager
    def _host(self, uri: str) -> Iterator[libvirt.virConnect]:
        conn = open_host(uri, self.connection.timeout)
        try:
            yield conn
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()


# --- reading one host


def read_host(conn: libvirt.virConnect, uri: str) -> tuple[NodeInfo, list[VMInfo]]:
    """The host as a node, and its domains as VMs (running or not)."""
    hostname = conn.getHostname()
    address = host_address(uri)
    vms = []
    for domain, stats in conn.getAllDomainStats(DOMAIN_STATS, 0):
        try:
            xml = domain.XMLDesc(0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined between the two calls
            raise
        vms.append(vm_from_domain(parse_domain_xml(xml), stats, hostname, address))
    _model, _numa_memory, cpus, *_rest = conn.getInfo()
    memory_total, memory_free = _memory(conn)
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


def _memory(conn: libvirt.virConnect) -> tuple[int, int]:
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


def host_address(uri: str) -> str:
    """The host part of a URI; 127.0.0.1 for a local one such as ``qemu:///system``."""
    return urlsplit(uri).hostname or LOCAL_ADDRESS


# --- pure parsing


def parse_domain_xml(xml: str) -> dict[str, Any]:
    """The parts of a domain's XML the inventory uses, as plain values.

    Memory is in MiB. ``disks`` are the disk and lun devices (not CD-ROMs or floppies), each
    ``{target, source, device, bus}``; ``nics`` are ``{type, mac, source, network, model,
    target}``; ``vnc`` is ``{port, listen}`` (port None until the domain runs) or None.
    """
    root = _xml_root(xml, "domain")
    vcpu = root.find("vcpu")
    return {
        "name": root.findtext("name", ""),
        "uuid": root.findtext("uuid", ""),
        "description": root.findtext("description", ""),
        "memory": _mib(root.find("memory")),
        "current_memory": _mib(root.find("currentMemory")),
        "vcpus": _int(vcpu.get("current") or vcpu.text) if vcpu is not None else 0,
        "disks": [_disk(e) for e in root.iterfind("devices/disk") if _is_disk(e)],
        "nics": [_nic(element) for element in root.iterfind("devices/interface")],
        "vnc": _vnc(root.find("devices/graphics[@type='vnc']")),
    }


def vm_from_domain(
    domain: dict[str, Any], stats: dict[str, Any], node_name: str, node_address: str
) -> VMInfo:
    """A VM from its parsed XML and its ``getAllDomainStats`` entry.

    Stats win where both know a value: they are live (balloon, current vCPUs). Disk sizes come
    only from stats (``block.N.capacity``, bytes); 0 when libvirt cannot tell.
    """
    actual, status = DOMAIN_STATES.get(stats.get("state.state"), ("unknown", "unknown"))
    balloon = stats.get("balloon.current") or stats.get("balloon.maximum")
    capacities = {
        stats.get(f"block.{i}.name"): stats.get(f"block.{i}.capacity")
        for i in range(stats.get("block.count", 0))
    }
    vnc = domain["vnc"]
    return VMInfo(
        name=domain["name"],
        uuid=domain["uuid"],
        primary_node=node_name,
        wanted_state="up" if actual in ("running", "paused") else "down",
        actual_state=actual,
        status=status,
        memory=balloon // 1024 if balloon else domain["current_memory"] or domain["memory"],
        vcpus=stats.get("vcpu.current") or domain["vcpus"],
        disks=[
            DiskInfo(size=(capacities.get(disk["target"]) or 0) // MiB, name=disk["target"])
            for disk in domain["disks"]
        ],
        nics=[
            NicInfo(
                mac=nic["mac"],
                mode=nic["type"],
                link=nic["source"],
                network=nic["network"],
                name=nic["target"],
                model=nic["model"],
            )
            for nic in domain["nics"]
        ],
        vnc_host=_vnc_host(vnc, node_address),
        vnc_port=vnc["port"] if vnc else None,
    )


def parse_network_xml(xml: str) -> NetworkInfo:
    """A libvirt network: its IPv4 and IPv6 subnets come from ``<ip address netmask|prefix>``."""
    root = _xml_root(xml, "network")
    info = NetworkInfo(
        name=root.findtext("name", ""), kind="libvirt", uuid=root.findtext("uuid", "")
    )
    for ip in root.iterfind("ip"):
        address = ip.get("address")
        mask = ip.get("netmask") or ip.get("prefix")
        if not address:
            continue
        try:
            interface = ipaddress.ip_interface(f"{address}/{mask}" if mask else address)
        except ValueError:
            raise MalformedAnswer(
                f"libvirt answered the network {info.name!r} with the address {address}/{mask}."
            ) from None
        if interface.version == 4 and not info.subnet:
            info.subnet, info.gateway = str(interface.network), address
        elif interface.version == 6 and not info.subnet6:
            info.subnet6, info.gateway6 = str(interface.network), address
    return info


_UNITS = {
    "b": 1, "bytes": 1, "kb": 10**3, "k": 2**10, "kib": 2**10, "mb": 10**6, "m": 2**20,
    "mib": 2**20, "gb": 10**9, "g": 2**30, "gib": 2**30, "tb": 10**12, "t": 2**40, "tib": 2**40,
}  # fmt: skip


def _xml_root(xml: str, tag: str) -> ET.Element:
    try:
        root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML, see the import)
    except ET.ParseError as exc:
        raise MalformedAnswer(f"libvirt answered {tag} XML that does not parse: {exc}.") from None
    if root.tag != tag:
        raise MalformedAnswer(f"libvirt answered <{root.tag}> where <{tag}> was expected.")
    return root


def _mib(element: ET.Element | None) -> int:
    """A libvirt size element (``<memory unit='KiB'>65536</memory>``) in MiB; KiB by default."""
    if element is None:
        return 0
    factor = _UNITS.get(element.get("unit", "KiB").lower())
    if factor is None:
        raise MalformedAnswer(f"libvirt answered a size in the unknown unit {element.get('unit')}.")
    return _int(element.text) * factor // MiB


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        raise MalformedAnswer(f"libvirt answered {text!r} where a number was expected.") from None


def _is_disk(element: ET.Element) -> bool:
    return element.get("device", "disk") in ("disk", "lun")


def _disk(element: ET.Element) -> dict[str, str]:
    source = element.find("source")
    target = element.find("target")
    path = ""
    if source is not None:
        # file, block, dir or volume (pool/volume) or network (protocol name)
        path = (
            source.get("file")
            or source.get("dev")
            or source.get("dir")
            or source.get("name")
            or "/".join(filter(None, (source.get("pool"), source.get("volume"))))
        )
    return {
        "target": target.get("dev", "") if target is not None else "",
        "bus": target.get("bus", "") if target is not None else "",
        "source": path,
        "device": element.get("device", "disk"),
    }


def _nic(element: ET.Element) -> dict[str, str]:
    kind = element.get("type", "")
    source = element.find("source")
    attrs = source.attrib if source is not None else {}
    return {
        "type": kind,
        "mac": _attr(element, "mac", "address"),
        # A network's live XML also names its bridge; a bridge or direct NIC names its link.
        "source": attrs.get("bridge") or attrs.get("dev") or attrs.get("network", ""),
        "network": attrs.get("network", "") if kind == "network" else "",
        "model": _attr(element, "model", "type"),
        "target": _attr(element, "target", "dev"),
    }


def _vnc(element: ET.Element | None) -> dict[str, Any] | None:
    """``{port, listen}``; a socket-only listener has no TCP port, so port is None."""
    if element is None:
        return None
    listen = element.get("listen", "")
    listener = element.find("listen")
    if listener is not None:
        if listener.get("type") in ("socket", "none"):
            return {"port": None, "listen": ""}
        listen = listener.get("address") or listen
    port = _int(element.get("port", "-1"))
    return {"port": port if port > 0 else None, "listen": listen}


def _vnc_host(vnc: dict[str, Any] | None, node_address: str) -> str:
    if not vnc or vnc["port"] is None:
        return ""
    return node_address if vnc["listen"] in ANY_ADDRESS else vnc["listen"]


def _attr(element: ET.Element, child: str, name: str) -> str:
    found = element.find(child)
    return found.get(name, "") if found is not None else ""


def _version(number: int) -> str:
    """libvirt's 9000000 -> "9.0.0"."""
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


# --- connections and their errors


def open_host(uri: str, timeout: float) -> libvirt.virConnect:
    """Open a URI within ``timeout`` as far as libvirt allows; errors become BackendErrors."""
    _check_port(uri, timeout)
    _start_event_loop()
    with translated(uri):
        conn = libvirt.open(uri)
    # A host that stops answering closes the connection after about `timeout` seconds, and
    # the blocked call fails, instead of hanging the worker.
    interval = max(1, int(timeout / 4))
    with contextlib.suppress(libvirt.libvirtError):  # some drivers have no keepalive
        conn.setKeepAlive(interval, 3)
    return conn


def _check_port(uri: str, timeout: float) -> None:
    """For a remote transport, try its TCP port: libvirt.open would wait the OS's timeout."""
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2] or ("tls" if parts.hostname else "")
    port = parts.port or DEFAULT_PORTS.get(transport)
    if not parts.hostname or port is None:
        return
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except TimeoutError:
        raise Unreachable(
            f"Cannot reach the libvirt host {uri}: no answer on port {port} within {timeout:g} s."
        ) from None
    except OSError as exc:
        raise Unreachable(f"Cannot reach the libvirt host {uri}: {network_reason(exc)}.") from None


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
    if code in CONNECT_ERRORS:
        errno_reason = ERRNO_REASONS.get(exc.get_int1() or 0)
        if errno_reason is None and message.startswith("Unable to resolve address"):
            errno_reason = "the name does not resolve"
        if exc.get_int1() == errno.ETIMEDOUT:
            return Timeout(f"The libvirt host {uri} did not answer in time: {message}.")
        return Unreachable(f"Cannot reach the libvirt host {uri}: {errno_reason or message}.")
    return OperationFailed(f"The libvirt host {uri} refused: {message}.")


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
