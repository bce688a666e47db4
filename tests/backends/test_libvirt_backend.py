"""LibvirtBackend against the real libvirtd on qemu:///system (scripts/libvirtd-up)."""

from __future__ import annotations

import libvirt
import pytest

from clusters.backends.base import BackendError, LibvirtConnection, Unreachable
from clusters.backends.libvirt import LibvirtBackend
from testbed.libvirt import vnc_endpoint


@pytest.fixture
def backend(libvirt_uri: str) -> LibvirtBackend:
    return LibvirtBackend(LibvirtConnection(uris=(libvirt_uri,), timeout=10))


def find_vm(backend: LibvirtBackend, name: str):
    inventory = backend.fetch_inventory()
    matches = [vm for vm in inventory.vms if vm.name == name]
    assert matches, f"{name} is not in the inventory: {[vm.name for vm in inventory.vms]}"
    return inventory, matches[0]


def test_it_reports_the_host_name_and_libvirt_version(backend):
    report = backend.test_connection()

    assert report.cluster_name
    assert report.software_version.startswith("libvirt ")
    assert report.node_count == 1


def test_the_inventory_finds_a_running_tiny_vm(backend, tiny_vm: libvirt.virDomain):
    inventory, vm = find_vm(backend, tiny_vm.name())

    [node] = inventory.nodes
    assert (node.address, node.uri, node.role) == ("127.0.0.1", "qemu:///system", "regular")
    assert node.memory_total > node.memory_free > 0
    assert node.cpus > 0
    assert node.primary_count >= 1
    assert vm.uuid == tiny_vm.UUIDString()
    assert vm.primary_node == node.name
    assert (vm.wanted_state, vm.actual_state, vm.status) == ("up", "running", "running")
    assert (vm.memory, vm.vcpus) == (64, 1)
    assert (vm.disks, vm.nics) == ([], [])
    assert (vm.vnc_host, vm.vnc_port) == vnc_endpoint(tiny_vm)
    assert inventory.info.name == node.name
    assert inventory.info.enabled_hypervisors == ["qemu"]


def test_a_stopped_vm_is_listed_as_stopped_without_a_console(backend, tiny_vm):
    tiny_vm.destroy()

    _, vm = find_vm(backend, tiny_vm.name())

    assert (vm.wanted_state, vm.actual_state, vm.status) == ("down", "stopped", "shutoff")
    assert (vm.memory, vm.vcpus) == (64, 1)
    assert vm.vnc_port is None


def test_a_uri_where_nothing_listens_is_unreachable_in_words():
    backend = LibvirtBackend(LibvirtConnection(uris=("qemu+tcp://127.0.0.1:1/system",)))

    with pytest.raises(Unreachable) as caught:
        backend.fetch_inventory()

    assert str(caught.value) == (
        "Cannot reach the libvirt host qemu+tcp://127.0.0.1:1/system: connection refused."
    )


def test_one_unreachable_host_fails_the_whole_inventory(libvirt_uri):
    uris = (libvirt_uri, "qemu+tcp://127.0.0.1:1/system")
    backend = LibvirtBackend(LibvirtConnection(uris=uris, timeout=10))

    with pytest.raises(Unreachable, match="127.0.0.1:1"):
        backend.fetch_inventory()


def test_a_uri_of_another_driver_is_refused_before_libvirt_reads_it():
    backend = LibvirtBackend(LibvirtConnection(uris=("nosuchdriver:///system",)))

    with pytest.raises(BackendError, match="only the QEMU driver"):
        backend.test_connection()
