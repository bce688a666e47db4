"""Live migration between two real libvirt hosts, asked for through the application.

The libvirt cluster has two nodes: the machine's libvirtd (qemu:///system) and the second
libvirtd of scripts/libvirt-host2 in the network namespace gwt-libvirt2
(qemu+tcp://198.51.100.2/system). Each step posts a form as a superuser; the job runs in the
test worker, which migrates the real QEMU guest (a tiny diskless one, at its firmware). The
guests are named with `vm_prefix` and removed from both hosts at the end.
"""

import os

import libvirt
import pytest

from clusters.backends.libvirt_host import host_memory
from clusters.models import Node
from testbed.libvirt import define_tiny_vm
from tests.fixtures_services import OWNER
from vms.models import VirtualMachine

from ..integration.application import describe, failed, succeeded

pytestmark = pytest.mark.django_db


def register_both_hosts(app, libvirt_uri, libvirt_host2):
    """A libvirt cluster of both hosts, registered and synced through the application."""
    return app.register(
        name="Two hosts",
        slug="pair",
        kind="libvirt",
        libvirt_uris=f"{libvirt_uri}\n{libvirt_host2.uri}",
        rapi_port="5080",
        on_this_machine=True,  # the first host is this machine's libvirtd
    )


@pytest.fixture
def cluster(app, libvirt_uri, libvirt_host2, libvirt_conn, libvirt_conn2):
    return register_both_hosts(app, libvirt_uri, libvirt_host2)


def nodes(cluster, libvirt_conn, libvirt_conn2):
    """The cluster's two nodes: the machine's host, then the second host."""
    return (
        Node.objects.get(cluster=cluster, name=libvirt_conn.getHostname()),
        Node.objects.get(cluster=cluster, name=libvirt_conn2.getHostname()),
    )


def row(cluster, name):
    return VirtualMachine.objects.select_related("cluster", "primary_node").get(
        cluster=cluster, name=name
    )


def running_on(conn, name):
    try:
        return bool(conn.lookupByName(name).isActive())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise


def claim(conn, name):
    """Mark a guest as this run's, so that another run's start-up cleanup leaves it alone."""
    domain = conn.lookupByName(name)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_AFFECT_LIVE
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, owner(), None, None, flags)


def owner():
    return OWNER.format(pid=os.getpid())


def test_a_running_vm_migrates_live_to_the_other_host_and_back_and_keeps_running(
    app, cluster, libvirt_conn, libvirt_conn2, libvirt_host2, vm_prefix
):
    here, there = nodes(cluster, libvirt_conn, libvirt_conn2)
    name = f"{vm_prefix}mover"
    succeeded(app.create(cluster, name, "diskless", memory=64, os=None, placement=here.name))
    claim(libvirt_conn, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state, vm.vnc_host) == (here, "running", "127.0.0.1")

    job = succeeded(app.act(vm, "migrate", target_node=there.name))
    assert f"Migrated {name} to {there.name}." in job.log
    assert running_on(libvirt_conn2, name) and not running_on(libvirt_conn, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (there, "running")
    # The console moved with the VM, to the address the second host has.
    assert vm.vnc_host == libvirt_host2.address and vm.vnc_port is not None
    assert there.name in app.page(vm.get_absolute_url())

    # Back, with the target left to the application: the only other host.
    job = succeeded(app.act(vm, "migrate", target_node=""))
    assert f"Migrated {name} to {here.name}." in job.log
    assert running_on(libvirt_conn, name) and not running_on(libvirt_conn2, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state, vm.vnc_host) == (here, "running", "127.0.0.1")


def test_a_migration_to_a_host_without_the_memory_fails_with_the_reason_and_the_vm_stays(
    app, libvirt_uri, libvirt_host2, libvirt_conn, libvirt_conn2, vm_prefix
):
    # A guest that asks for more memory than the machine has free. QEMU reserves it lazily,
    # so the guest runs here; both hosts share this machine's memory, so the second host
    # really lacks it. Made with libvirt directly: the creation form checks free memory.
    name = f"{vm_prefix}big"
    total, free = host_memory(libvirt_conn)
    big = total - 32
    assert big > free, f"the machine has {free} of {total} MiB free; the test needs less"
    define_tiny_vm(libvirt_conn, name, memory_mib=big, description=owner())
    cluster = register_both_hosts(app, libvirt_uri, libvirt_host2)
    here, there = nodes(cluster, libvirt_conn, libvirt_conn2)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state, vm.memory) == (here, "running", big)

    job = failed(app.act(vm, "migrate", target_node=there.name))

    assert f"{there.name} has " in job.error, describe(job)
    assert f"MiB of memory free and {name} needs {big} MiB" in job.error, describe(job)
    assert running_on(libvirt_conn, name) and not running_on(libvirt_conn2, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (here, "running")


def test_a_migration_to_a_host_that_is_down_fails_with_the_reason_and_the_vm_stays(
    app, cluster, libvirt_conn, libvirt_conn2, libvirt_host2, vm_prefix
):
    here, there = nodes(cluster, libvirt_conn, libvirt_conn2)
    name = f"{vm_prefix}stay"
    succeeded(app.create(cluster, name, "diskless", memory=64, os=None, placement=here.name))
    claim(libvirt_conn, name)

    libvirt_host2.stop()  # its libvirtd is gone; libvirt_conn2 starts it again afterwards
    job = failed(app.act(row(cluster, name), "migrate", target_node=there.name))

    assert libvirt_host2.uri in job.error, describe(job)
    assert running_on(libvirt_conn, name)
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (here, "running")
