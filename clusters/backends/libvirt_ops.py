"""The lifecycle operations of a set of libvirt hosts.

Each operation opens the host of the VM (the ``uri`` the caller passes, or the one host that
has the VM), does its steps, reports each one through ``Progress.log`` and closes the host.
Every libvirtError becomes a BackendError in words (``translated``). What cannot be done is
refused before anything changes; a creation that fails half-way removes what it made.

Disks of the VMs ganetiweb creates are raw volumes of one storage pool, ``ganetiweb``, on every
host (see libvirt_xml). Migration copies them (non-shared storage); moving a stopped VM copies
its volumes over a libvirt stream.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET  # noqa: S405 (only for the type of libvirt's elements)
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libvirt

from .base import (
    BackendError,
    LibvirtConnection,
    NotFound,
    OperationFailed,
    Operations,
    Progress,
    VMChanges,
    VMInfo,
    VMSpec,
)
from .libvirt_create import Made, check_new_vm, check_nic, make_disks, remove_made
from .libvirt_host import (
    DOMAIN_STATS,
    UNDEFINE_FLAGS,
    Host,
    domain_disks,
    domain_memory,
    find_domain,
    translated,
)
from .libvirt_moves import move_vm, roomiest_host
from .libvirt_parse import MiB, host_address, parse_domain_xml, vm_from_domain
from .libvirt_storage import delete_disk
from .libvirt_xml import domain_xml, element_xml, interface_elements, interface_xml

CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


class LibvirtOperations(Operations):
    """The Operations of LibvirtBackend, a mixin: it uses the backend's ``connection`` (its
    URIs) and ``_host(uri)``, which opens a host and closes it again."""

    #: Seconds between two looks at the state of a VM that shuts down.
    state_poll: float = 0.5

    # What the mixin uses of LibvirtBackend, declared for the type checker only.
    connection: LibvirtConnection
    if TYPE_CHECKING:

        def _host(self, uri: str) -> contextlib.AbstractContextManager[libvirt.virConnect]: ...

    # --- creation

    def create_vm(self, spec: VMSpec, progress: Progress) -> None:
        """Define a persistent domain on `spec.primary_uri` with its disks, and start it."""
        uri = spec.primary_uri or self._only_host("create a VM")
        self._known(uri)
        with self._host(uri) as conn, translated(uri):
            host = conn.getHostname()
            check_new_vm(conn, uri, spec)
            made = Made()
            try:
                disks = make_disks(conn, spec, made, progress)
                made.domain = conn.defineXML(domain_xml(spec, disks, host_address(uri)))
                progress.log(f"Defined the domain {spec.name} on {host}.")
                progress.percent(50)
                if spec.start:
                    made.domain.create()
                    progress.log(f"Started {spec.name}.")
            except BaseException:
                remove_made(made, progress)
                raise
        progress.percent(100)

    # --- power

    def start_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        with self._vm(vm, uri) as (domain, host):
            domain.create()
            progress.log(f"Started {vm} on {host.name}.")

    def shutdown_vm(self, vm: str, timeout: int, progress: Progress, uri: str = "") -> None:
        """Ask the guest (ACPI) to power off; fail, leaving it running, after `timeout` s."""
        with self._vm(vm, uri) as (domain, _host):
            domain.shutdown()
            progress.log(f"Asked {vm} to shut down; waiting up to {timeout} s.")
            deadline = time.monotonic() + timeout
            while _is_on(domain):
                if time.monotonic() >= deadline:
                    raise OperationFailed(
                        f"{vm} did not power off within {timeout} s; the VM is still running. "
                        "Use force off."
                    )
                time.sleep(self.state_poll)
            progress.log(f"{vm} powered off.")

    def force_off_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        with self._vm(vm, uri) as (domain, _host):
            domain.destroy()
            progress.log(f"Powered {vm} off.")

    def reboot_vm(self, vm: str, progress: Progress, uri: str = "", hard: bool = False) -> None:
        """Soft: ask the guest (ACPI; a guest without an OS ignores it). Hard: a reset."""
        with self._vm(vm, uri) as (domain, _host):
            if hard:
                domain.reset(0)
                progress.log(f"Reset {vm} (hard reboot).")
            else:
                domain.reboot(0)
                progress.log(f"Asked {vm} to reboot.")

    # --- changes

    def modify_vm(self, vm: str, changes: VMChanges, progress: Progress, uri: str = "") -> None:
        """Memory, vCPUs, disk sizes and NICs, in the configuration and, where libvirt can,
        in the running VM too; what cannot change live applies at the next boot.

        Everything is checked before the first change, so a refusal changes nothing.
        """
        with self._vm(vm, uri) as (domain, host):
            running = bool(domain.isActive())
            volumes = _check_changes(host, domain, changes)
            if changes.memory is not None:
                _set_memory(domain, changes.memory, running, progress)
            if changes.vcpus is not None:
                _set_vcpus(domain, changes.vcpus, running, progress)
            for index, amount in sorted(changes.grow_disks.items()):
                _grow_disk(domain, index, volumes[index], amount, running, progress)
            for index in sorted(set(changes.remove_nics), reverse=True):
                _remove_nic(domain, index, running, progress)
            for nic in changes.add_nics:
                _change_nic(domain, "attach", interface_xml(nic), running, progress)
                progress.log(f"Added a NIC on {nic.network or nic.link} to {vm}.")
        progress.percent(100)

    def rename_vm(self, vm: str, new_name: str, progress: Progress, uri: str = "") -> None:
        with self._vm(vm, uri) as (domain, _host):
            if domain.isActive():
                raise OperationFailed(
                    f"{vm} is running and libvirt renames only a VM that is shut off; "
                    "shut it down first."
                )
            domain.rename(new_name, 0)
            progress.log(f"Renamed {vm} to {new_name}.")

    def reinstall_vm(self, vm: str, os: str, progress: Progress, uri: str = "") -> None:
        raise OperationFailed(
            f"{vm} cannot be reinstalled: libvirt hosts have no OS installer. Boot it from an "
            "installation image, or delete it and create it again."
        )

    def delete_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        """Power off, undefine, and delete the VM's volumes in the ganetiweb pool."""
        with self._vm(vm, uri) as (domain, host):
            paths = [disk["source"] for disk in domain_disks(domain) if disk["source"]]
            persistent = domain.isPersistent()  # a transient domain is gone once off
            if domain.isActive():
                domain.destroy()
                progress.log(f"Powered {vm} off.")
            if persistent:
                domain.undefineFlags(UNDEFINE_FLAGS)
            progress.log(f"Removed the domain {vm} from {host.name}.")
            for path in paths:
                delete_disk(host, path, progress)
        progress.percent(100)

    def read_vm(self, vm: str, uri: str = "") -> VMInfo:
        with self._vm(vm, uri) as (domain, host):
            [(_domain, stats)] = host.conn.domainListGetStats([domain], DOMAIN_STATS, 0)
            parsed = parse_domain_xml(domain.XMLDesc(0))
            return vm_from_domain(parsed, stats, host.name, host_address(host.uri))

    # --- moves

    def migrate_vm(
        self,
        vm: str,
        progress: Progress,
        uri: str = "",
        target_node: str = "",
        target_uri: str = "",
    ) -> None:
        """Live-migrate a running VM (copying its disks); move a stopped one's definition and
        disks. Without a target, the other host with the most free memory is chosen."""
        with self._vm(vm, uri) as (domain, source), contextlib.ExitStack() as stack:
            # A stopped VM needs its memory only when it starts.
            need = domain_memory(domain) if domain.isActive() else 0
            if target_uri or target_node:
                target = self._open_target(stack, source, target_uri or target_node)
                if target.uuid == source.uuid:
                    raise OperationFailed(
                        f"{vm} is already on {source.name}: {target.uri} is the same host as "
                        f"{source.uri}. Choose another host."
                    )
                free = target.free_memory()
                if free < need:
                    raise OperationFailed(
                        f"{target.name} has {free} MiB of memory free and {vm} needs {need} MiB; "
                        "choose another host or free some memory."
                    )
            else:
                others = self._open_others(stack, source)
                if not others:
                    raise OperationFailed(
                        f"{vm} cannot be migrated: {source.name} is the only host of the libvirt "
                        "cluster."
                    )
                target = roomiest_host(others, need, vm)
            move_vm(domain, source, target, progress)
        progress.percent(100)

    def failover_vm(self, vm: str, progress: Progress, target_node: str = "") -> None:
        raise OperationFailed(
            f"{vm} cannot be failed over: libvirt hosts have no replicated disks. "
            "Use migrate to move it to another host."
        )

    # --- nodes

    def set_node_role(self, node: str, role: str, progress: Progress) -> None:
        raise OperationFailed(
            f"{node} cannot be set {role}: libvirt hosts have no roles (offline, drained). "
            "Migrate or evacuate its VMs instead."
        )

    def migrate_node(self, node: str, progress: Progress) -> None:
        """Live-migrate every running VM of the host to the other hosts, each to the one with
        the most free memory that fits it."""
        self._empty_host(node, progress, stopped_too=False)

    def evacuate_node(self, node: str, progress: Progress) -> None:
        """migrate_node, then move every stopped persistent VM (definition and disks)."""
        self._empty_host(node, progress, stopped_too=True)

    def _empty_host(self, node: str, progress: Progress, stopped_too: bool) -> None:
        with contextlib.ExitStack() as stack:
            hosts = [Host.of(uri, stack.enter_context(self._host(uri))) for uri in self._uris()]
            matches = [h for h in hosts if node in (h.name, h.uri)]
            if not matches:
                raise NotFound(f"The libvirt cluster has no host named {node!r}.")
            source = matches[0]
            others = [h for h in hosts if h.uuid != source.uuid]
            if not others:
                raise OperationFailed(
                    f"The VMs of {source.name} cannot be moved: it is the only host of the "
                    "libvirt cluster."
                )
            flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
            if stopped_too:
                flags |= libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE
            with translated(source.uri):
                domains = source.conn.listAllDomains(flags)
                domains = [d for d in domains if d.isActive() or d.isPersistent()]
                # The biggest first, while the most room is left.
                domains.sort(key=domain_memory, reverse=True)
            if not domains:
                progress.log(f"{source.name} has no VM to move.")
            failures = []
            for number, domain in enumerate(domains, start=1):
                try:
                    with translated(source.uri):
                        need = domain_memory(domain) if domain.isActive() else 0
                        target = roomiest_host(others, need, domain.name())
                        move_vm(domain, source, target, progress)
                except BackendError as exc:
                    failures.append(str(exc))
                    progress.log(str(exc))
                progress.percent(100 * number // len(domains))
            if failures:
                raise OperationFailed(
                    f"{len(failures)} of the {len(domains)} VMs of {source.name} could not be "
                    "moved: " + " ".join(failures)
                )
        progress.percent(100)

    # --- hosts

    def _uris(self) -> tuple[str, ...]:
        return self.connection.uris

    def _only_host(self, what: str) -> str:
        uris = self._uris()
        if len(uris) != 1:
            raise OperationFailed(f"Name the host to {what} on: the libvirt cluster has several.")
        return uris[0]

    def _known(self, uri: str) -> None:
        if uri not in self._uris():
            raise OperationFailed(
                f"{uri} is not a host of this libvirt cluster ({', '.join(self._uris())})."
            )

    @contextlib.contextmanager
    def _vm(self, vm: str, uri: str) -> Iterator[tuple[libvirt.virDomain, Host]]:
        """The VM's domain on its host (`uri`, or the host that has it), translating errors."""
        uris: tuple[str, ...]
        if uri:
            self._known(uri)
            uris = (uri,)
        else:
            uris = self._uris()
        for candidate in uris:
            with self._host(candidate) as conn, translated(candidate):
                domain = find_domain(conn, vm)
                if domain is not None:
                    yield domain, Host.of(candidate, conn)
                    return
        if uri:
            raise NotFound(f"The libvirt host {uri} has no VM named {vm!r}.")
        raise NotFound(f"No host of the libvirt cluster has a VM named {vm!r}.")

    def _open_target(self, stack: contextlib.ExitStack, source: Host, target: str) -> Host:
        """The host named by a URI or a host name."""
        if target in self._uris():
            return Host.of(target, stack.enter_context(self._host(target)))
        for host in self._open_others(stack, source):
            if target == host.name:
                return host
        if target == source.name:
            return source
        raise OperationFailed(f"The libvirt cluster has no host named {target!r}.")

    def _open_others(self, stack: contextlib.ExitStack, source: Host) -> list[Host]:
        """Every other host of the cluster, open (the same machine under another URI is not
        another host)."""
        hosts = []
        for uri in self._uris():
            if uri != source.uri:
                host = Host.of(uri, stack.enter_context(self._host(uri)))
                if host.uuid != source.uuid:
                    hosts.append(host)
        return hosts


# --- changes


def _set_memory(domain: libvirt.virDomain, mib: int, running: bool, progress: Progress) -> None:
    """The maximum and current memory in the configuration; the current one live if it can."""
    kib = mib * 1024
    domain.setMemoryFlags(kib, CONFIG | libvirt.VIR_DOMAIN_MEM_MAXIMUM)
    domain.setMemoryFlags(kib, CONFIG)
    progress.log(f"Set the memory of {domain.name()} to {mib} MiB.")
    if running and not _try(lambda: domain.setMemoryFlags(kib, LIVE)):
        progress.log("The running VM keeps its memory; the new size applies at the next boot.")


def _set_vcpus(domain: libvirt.virDomain, count: int, running: bool, progress: Progress) -> None:
    maximum = libvirt.VIR_DOMAIN_VCPU_MAXIMUM
    if count > domain.vcpusFlags(CONFIG | maximum):
        domain.setVcpusFlags(count, CONFIG | maximum)
        domain.setVcpusFlags(count, CONFIG)
    else:  # the current count may not exceed the maximum, so lower it first
        domain.setVcpusFlags(count, CONFIG)
        domain.setVcpusFlags(count, CONFIG | maximum)
    progress.log(f"Set the vCPUs of {domain.name()} to {count}.")
    if running and not _try(lambda: domain.setVcpusFlags(count, LIVE)):
        progress.log("The running VM keeps its vCPUs; the new count applies at the next boot.")


def _check_changes(
    host: Host, domain: libvirt.virDomain, changes: VMChanges
) -> dict[int, libvirt.virStorageVol]:
    """Refuse a change that cannot be made; return the volumes of the disks to grow."""
    name = domain.name()
    if (changes.memory is not None and changes.memory <= 0) or (
        changes.vcpus is not None and changes.vcpus <= 0
    ):
        raise OperationFailed("Memory and vCPUs must be positive.")
    disks = domain_disks(domain)
    volumes = {}
    for index, amount in changes.grow_disks.items():
        if not 0 <= index < len(disks):
            raise OperationFailed(f"{name} has no disk {index}; it has {len(disks)}.")
        if amount <= 0:
            raise OperationFailed(f"Disk {index} of {name} can only grow, not by {amount} MiB.")
        try:
            volumes[index] = host.conn.storageVolLookupByPath(disks[index]["source"])
        except libvirt.libvirtError:
            raise OperationFailed(
                f"Disk {index} of {name} ({disks[index]['source']}) is not a volume of a libvirt "
                "storage pool, so ganetiweb cannot grow it."
            ) from None
    nic_count = len(interface_elements(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))
    for index in changes.remove_nics:
        if not 0 <= index < nic_count:
            raise OperationFailed(f"{name} has no NIC {index}; it has {nic_count}.")
    for nic in changes.add_nics:
        check_nic(host.conn, host.uri, nic)
    return volumes


def _grow_disk(
    domain: libvirt.virDomain,
    index: int,
    volume: libvirt.virStorageVol,
    amount: int,
    running: bool,
    progress: Progress,
) -> None:
    """Grow the volume; a running VM is told of its new size (QEMU's block_resize)."""
    size = volume.info()[1] + amount * MiB
    volume.resize(size, 0)
    if running:
        target = domain_disks(domain)[index]["target"]
        domain.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    progress.log(f"Grew disk {index} of {domain.name()} by {amount} MiB to {size // MiB} MiB.")


def _remove_nic(domain: libvirt.virDomain, index: int, running: bool, progress: Progress) -> None:
    """Remove the NIC at `index` in the configuration (and from the running VM)."""
    nic = interface_elements(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))[index]
    _change_nic(domain, "detach", element_xml(nic), running, progress)
    progress.log(f"Removed NIC {index} from {domain.name()}.")
    address = _mac(nic)
    if running and address:
        live = interface_elements(domain.XMLDesc(0))
        if any(_mac(other) == address for other in live):
            # libvirt asks the guest to let the device go, and waits a few seconds only.
            progress.log("The running VM keeps the NIC until its guest lets go or it powers off.")


def _change_nic(
    domain: libvirt.virDomain, action: str, xml: str, running: bool, progress: Progress
) -> None:
    """Attach or detach a NIC in the configuration, and in the running VM where it can."""
    call = domain.attachDeviceFlags if action == "attach" else domain.detachDeviceFlags
    if running and _try(lambda: call(xml, CONFIG | LIVE)):
        return
    call(xml, CONFIG)
    if running:
        progress.log(f"The running VM could not {action} the NIC now; it applies at the next boot.")


def _mac(interface: ET.Element) -> str | None:
    mac = interface.find("mac")
    return mac.get("address") if mac is not None else None


def _try(call) -> bool:
    try:
        call()
    except libvirt.libvirtError:
        return False
    return True


def _is_on(domain: libvirt.virDomain) -> bool:
    """Whether the domain still runs; a transient one is gone once off."""
    try:
        return domain.state()[0] != libvirt.VIR_DOMAIN_SHUTOFF
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
        return False
