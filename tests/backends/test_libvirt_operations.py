"""LibvirtBackend's lifecycle operations against the real libvirtd on qemu:///system.

The guests boot to the SeaBIOS firmware and stay there: with no OS they ignore ACPI, so a
shutdown times out and a soft reboot does nothing visible. Every domain is named with the
`vm_prefix` fixture, so it is removed after the test, with its volumes in the ganetiweb pool.
There is one host: migration is only refused here.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libvirt
import pytest

from clusters.backends.base import (
    LibvirtConnection,
    NicSpec,
    NotFound,
    OperationFailed,
    VMChanges,
    VMSpec,
)
from clusters.backends.libvirt import LibvirtBackend
from clusters.backends.libvirt_storage import copy_volume, ensure_pool, find_pool
from clusters.backends.libvirt_xml import POOL_NAME, volume_xml
from testbed.libvirt import remove_vms
from tests.fixtures_services import OWNER

from .recording import RecordingProgress


@pytest.fixture
def backend(libvirt_uri: str) -> LibvirtBackend:
    backend = LibvirtBackend(LibvirtConnection(uris=(libvirt_uri,), timeout=10))
    backend.state_poll = 0.2
    return backend


@pytest.fixture
def conn(libvirt_conn: libvirt.virConnect, vm_prefix: str) -> Iterator[libvirt.virConnect]:
    """libvirt_conn, and at the end the test's domains and volumes removed."""
    yield libvirt_conn
    remove_vms(libvirt_conn, vm_prefix)
    pool = find_pool(libvirt_conn)
    if pool is not None and pool.isActive():
        pool.refresh(0)
        for volume in pool.listAllVolumes(0):
            if volume.name().startswith(vm_prefix):
                volume.delete(0)


@dataclass
class Network:
    name: str  # a libvirt network (forward mode bridge) on...
    bridge: str  # ...this port-less host bridge


@pytest.fixture
def network(conn: libvirt.virConnect, vm_prefix: str) -> Iterator[Network]:
    """A bridge and a libvirt network on it, for this test only.

    The machine has no dnsmasq nor iptables, so libvirt's NAT and isolated networks cannot
    start; a network in bridge mode needs neither.
    """
    found = Network(name=f"{vm_prefix}net", bridge=f"gwtb{secrets.token_hex(4)}")
    ip(["link", "add", "name", found.bridge, "type", "bridge"])
    try:
        ip(["link", "set", found.bridge, "up"])
        libvirt_network = conn.networkCreateXML(
            f"<network><name>{found.name}</name><forward mode='bridge'/>"
            f"<bridge name='{found.bridge}'/></network>"
        )
        try:
            yield found
        finally:
            remove_vms(conn, vm_prefix)  # the guests on the bridge first
            libvirt_network.destroy()
    finally:
        ip(["link", "del", found.bridge])


def ip(args: list[str]) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ip {' '.join(args)} failed (needs root and iproute2): {result.stderr}")


def claim(conn: libvirt.virConnect, name: str) -> None:
    """Mark a guest as this test run's, so that another run's cleanup leaves it alone."""
    domain = conn.lookupByName(name)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    description = OWNER.format(pid=os.getpid())
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, description, None, None, flags)


@pytest.fixture
def create(backend, conn, libvirt_uri) -> Callable[..., RecordingProgress]:
    """Create a VM through the backend (64 MiB, 1 vCPU, diskless unless told) and claim it."""

    def make(name: str, **fields) -> RecordingProgress:
        spec = VMSpec(
            name=name,
            memory=fields.pop("memory", 64),
            vcpus=fields.pop("vcpus", 1),
            disk_template=fields.pop("disk_template", "diskless"),
            primary_uri=libvirt_uri,
            **fields,
        )
        progress = RecordingProgress()
        backend.create_vm(spec, progress)
        claim(conn, name)
        return progress

    return make


def volumes(conn: libvirt.virConnect, prefix: str) -> list[str]:
    pool = find_pool(conn)
    if pool is None:
        return []
    pool.refresh(0)
    return sorted(name for name in pool.listVolumes() if name.startswith(prefix))


def refused(operation: Callable, *args, **kwargs) -> str:
    with pytest.raises(OperationFailed) as caught:
        operation(*args, progress=RecordingProgress(), **kwargs)
    return str(caught.value)


# --- creation


def test_a_tiny_diskless_vm_is_created_running_with_two_nics_and_a_console(
    backend, conn, create, vm_prefix, network
):
    name = f"{vm_prefix}tiny"
    mac = "52:54:00:12:34:56"

    progress = create(
        name, nics=[NicSpec(network=network.name), NicSpec(link=network.bridge, mac=mac)]
    )

    host = conn.getHostname()
    assert progress.lines == [f"Defined the domain {name} on {host}.", f"Started {name}."]
    assert progress.percents == [50, 100]
    domain = conn.lookupByName(name)
    assert domain.isPersistent() and domain.isActive()
    assert "<domain type='qemu'" in domain.XMLDesc(0)
    vm = backend.read_vm(name)
    assert (vm.actual_state, vm.status, vm.primary_node) == ("running", "running", host)
    assert (vm.memory, vm.vcpus, vm.disks) == (64, 1, [])
    assert [(nic.network, nic.link) for nic in vm.nics] == [
        (network.name, network.bridge),
        ("", network.bridge),
    ]
    assert vm.nics[1].mac == mac
    assert vm.vnc_host == "127.0.0.1" and vm.vnc_port >= 5900


def test_a_vm_with_a_file_disk_gets_a_raw_volume_in_the_ganetiweb_pool(
    backend, conn, create, vm_prefix
):
    name = f"{vm_prefix}disk"

    progress = create(name, disk_template="file", disks=[16], start=False)

    assert progress.has_line(f"Created the disk {name}-disk0.img (16 MiB) in the pool ganetiweb.")
    assert volumes(conn, name) == [f"{name}-disk0.img"]
    pool = conn.storagePoolLookupByName(POOL_NAME)
    assert pool.isActive() and pool.autostart()
    vm = backend.read_vm(name)
    assert (vm.actual_state, [disk.size for disk in vm.disks]) == ("stopped", [16])


# --- power


def test_a_firmware_only_guest_ignores_shutdown_and_is_forced_off_started_and_reset(
    backend, create, vm_prefix
):
    name = f"{vm_prefix}power"
    create(name)

    progress = RecordingProgress()
    with pytest.raises(OperationFailed) as caught:
        backend.shutdown_vm(name, 2, progress)
    assert str(caught.value) == (
        f"{name} did not power off within 2 s; the VM is still running. Use force off."
    )
    assert backend.read_vm(name).actual_state == "running"

    backend.force_off_vm(name, progress)
    assert backend.read_vm(name).actual_state == "stopped"

    backend.start_vm(name, progress)
    assert backend.read_vm(name).actual_state == "running"

    backend.reboot_vm(name, progress, hard=True)
    backend.reboot_vm(name, progress)
    assert backend.read_vm(name).actual_state == "running"
    assert progress.lines[-2:] == [f"Reset {name} (hard reboot).", f"Asked {name} to reboot."]


# --- changes


def test_a_vm_is_modified_renamed_only_when_off_and_deleted_with_its_volume(
    backend, conn, create, vm_prefix, network
):
    name, renamed = f"{vm_prefix}mod", f"{vm_prefix}renamed"
    create(name, disk_template="file", disks=[16])

    # while it runs: the configuration changes, the running VM keeps what it has
    progress = RecordingProgress()
    backend.modify_vm(name, VMChanges(memory=96, vcpus=2), progress)
    assert progress.has_line("the new size applies at the next boot")
    assert progress.has_line("the new count applies at the next boot")
    assert "shut it down first" in refused(backend.rename_vm, name, renamed)

    backend.force_off_vm(name, progress)
    vm = backend.read_vm(name)
    assert (vm.memory, vm.vcpus) == (96, 2)

    # while it is off: grow the disk, add a NIC, then remove it
    backend.modify_vm(
        name, VMChanges(grow_disks={0: 8}, add_nics=[NicSpec(network=network.name)]), progress
    )
    vm = backend.read_vm(name)
    assert [disk.size for disk in vm.disks] == [24]
    assert [nic.network for nic in vm.nics] == [network.name]
    backend.modify_vm(name, VMChanges(memory=48, vcpus=1, remove_nics=[0]), progress)
    vm = backend.read_vm(name)
    assert (vm.memory, vm.vcpus, vm.nics) == (48, 1, [])

    backend.rename_vm(name, renamed, progress)
    assert backend.read_vm(renamed).name == renamed
    with pytest.raises(NotFound):
        backend.read_vm(name)

    deleted = RecordingProgress()
    backend.delete_vm(renamed, deleted)
    assert deleted.has_line(f"Deleted the disk {name}-disk0.img.")
    with pytest.raises(NotFound):
        backend.read_vm(renamed)
    assert volumes(conn, vm_prefix) == []


def test_a_change_that_cannot_be_made_is_refused_before_anything_changes(
    backend, create, vm_prefix
):
    name = f"{vm_prefix}bad"
    create(name, memory=64)

    changes = VMChanges(memory=128, grow_disks={0: 8})
    assert refused(backend.modify_vm, name, changes) == f"{name} has no disk 0; it has 0."
    changes = VMChanges(vcpus=2, add_nics=[NicSpec(network="no-such-network")])
    assert "has no network 'no-such-network'" in refused(backend.modify_vm, name, changes)

    vm = backend.read_vm(name)
    assert (vm.memory, vm.vcpus) == (64, 1)


# --- refusals


def test_what_one_host_cannot_do_is_refused_in_words(backend, conn, create, vm_prefix, libvirt_uri):
    name = f"{vm_prefix}alone"
    create(name)
    host = conn.getHostname()

    assert refused(backend.migrate_vm, name) == (
        f"{name} cannot be migrated: {host} is the only host of the libvirt cluster."
    )
    assert refused(backend.migrate_vm, name, target_uri=libvirt_uri) == (
        f"{name} is already on {host}: {libvirt_uri} is the same host as {libvirt_uri}. "
        "Choose another host."
    )
    assert refused(backend.failover_vm, name) == (
        f"{name} cannot be failed over: libvirt hosts have no replicated disks. "
        "Use migrate to move it to another host."
    )
    assert refused(backend.reinstall_vm, name, "debian") == (
        f"{name} cannot be reinstalled: libvirt hosts have no OS installer. Boot it from an "
        "installation image, or delete it and create it again."
    )
    assert "libvirt hosts have no roles" in refused(backend.set_node_role, host, "drained")
    for operation in (backend.migrate_node, backend.evacuate_node):
        assert refused(operation, host) == (
            f"The VMs of {host} cannot be moved: it is the only host of the libvirt cluster."
        )
    assert backend.read_vm(name).actual_state == "running"


def test_a_name_already_defined_is_refused_and_nothing_is_made(backend, conn, tiny_vm):
    spec = VMSpec(name=tiny_vm.name(), memory=64, vcpus=1, disk_template="file", disks=[16])

    assert refused(backend.create_vm, spec) == (
        f"A VM named {tiny_vm.name()!r} is already defined on {conn.getURI()}."
    )
    assert volumes(conn, tiny_vm.name()) == []


@pytest.mark.parametrize(
    ("nic", "reason"),
    [
        (NicSpec(network="no-such-network"), "has no network 'no-such-network'."),
        (NicSpec(link="nosuchbr0"), "has no bridge 'nosuchbr0'."),
        (NicSpec(link="lo"), "'lo' on qemu:///system is not a bridge."),
        (NicSpec(), "A NIC on a libvirt host needs a network or a bridge (link)."),
    ],
)
def test_a_nic_on_nothing_usable_is_refused_before_anything_is_made(
    backend, conn, vm_prefix, libvirt_uri, nic, reason
):
    name = f"{vm_prefix}nic"
    spec = VMSpec(name=name, memory=64, vcpus=1, disk_template="file", disks=[16], nics=[nic])

    assert refused(backend.create_vm, spec).endswith(reason)
    with pytest.raises(NotFound):
        backend.read_vm(name)
    assert volumes(conn, name) == []


def test_a_vm_that_cannot_start_is_removed_with_its_disk(backend, conn, vm_prefix, libvirt_uri):
    name = f"{vm_prefix}half"
    # A network in bridge mode on a bridge that does not exist: it starts, QEMU cannot.
    lost = conn.networkCreateXML(
        f"<network><name>{vm_prefix}lost</name><forward mode='bridge'/>"
        f"<bridge name='gwtl{secrets.token_hex(4)}'/></network>"
    )
    spec = VMSpec(
        name=name,
        memory=64,
        vcpus=1,
        disk_template="file",
        disks=[16],
        nics=[NicSpec(network=f"{vm_prefix}lost")],
        primary_uri=libvirt_uri,
    )
    progress = RecordingProgress()
    try:
        with pytest.raises(OperationFailed, match="Cannot get interface MTU"):
            backend.create_vm(spec, progress)
    finally:
        lost.destroy()

    assert progress.lines[-2:] == [
        "Removed the half-made domain.",
        f"Removed the half-made disk {name}-disk0.img.",
    ]
    with pytest.raises(NotFound):
        backend.read_vm(name)
    assert volumes(conn, name) == []


def test_an_unknown_vm_is_not_found_in_words(backend, libvirt_uri, vm_prefix):
    with pytest.raises(NotFound) as caught:
        backend.start_vm(f"{vm_prefix}none", RecordingProgress(), uri=libvirt_uri)

    assert str(caught.value) == f"The libvirt host {libvirt_uri} has no VM named '{vm_prefix}none'."


# --- storage


def test_a_volume_is_copied_byte_for_byte_over_streams(conn, vm_prefix):
    pool = ensure_pool(conn, RecordingProgress())
    source = pool.createXML(volume_xml(f"{vm_prefix}src.img", 1), 0)
    copy = pool.createXML(volume_xml(f"{vm_prefix}copy.img", 1), 0)
    data = secrets.token_bytes(1024 * 1024)
    upload = conn.newStream(0)
    source.upload(upload, 0, len(data), 0)
    upload.send(data)
    upload.finish()

    copy_volume(conn, source, conn, copy)

    with open(copy.path(), "rb") as copied:
        assert copied.read() == data
