"""VMs on the real libvirtd, asked for through the application from creation to deletion.

Every step posts a form as a superuser; the job runs in the test worker against qemu:///system.
The guests have no OS: they boot to the SeaBIOS firmware and stay there, so they ignore the ACPI
power button and a clean shutdown times out. Domains are named with the `vm_prefix` fixture and
removed at the end, with their volumes in the ganetiweb pool, whatever happens.
"""

import os
from collections.abc import Iterator

import libvirt
import pytest

from clusters.backends.libvirt_storage import find_pool
from tests.fixtures_services import OWNER
from vms.models import VirtualMachine

from .application import failed, succeeded

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(libvirt_conn: libvirt.virConnect, vm_prefix: str) -> Iterator[libvirt.virConnect]:
    """libvirt_conn (which removes the test's domains), and the test's volumes removed too."""
    yield libvirt_conn
    for volume in _volumes(libvirt_conn, vm_prefix):
        volume.delete(0)


@pytest.fixture
def cluster(app, libvirt_uri):
    return app.register_libvirt(libvirt_uri)


def _volumes(conn, prefix):
    pool = find_pool(conn)
    if pool is None or not pool.isActive():
        return []
    pool.refresh(0)
    return [volume for volume in pool.listAllVolumes(0) if volume.name().startswith(prefix)]


def volume_names(conn, prefix):
    return sorted(volume.name() for volume in _volumes(conn, prefix))


def claim(conn, name):
    """Mark a guest as this test run's, so that another run's start-up cleanup leaves it alone."""
    domain = conn.lookupByName(name)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    description = OWNER.format(pid=os.getpid())
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, description, None, None, flags)
    return domain


def defined(conn, name):
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise
    return True


def row(cluster, name):
    return VirtualMachine.objects.select_related("cluster").get(cluster=cluster, name=name)


def test_a_tiny_vm_is_created_powered_off_on_and_reset_and_deleted_through_the_application(
    app, cluster, conn, vm_prefix, superuser
):
    name = f"{vm_prefix}tiny"

    job = succeeded(app.create(cluster, name, "diskless", memory=64, os=None))
    domain = claim(conn, name)
    assert f"Defined the domain {name} on {conn.getHostname()}." in job.log
    vm = row(cluster, name)
    assert job.vm == vm
    assert (vm.actual_state, vm.memory, vm.vcpus) == ("running", 64, 1)
    assert (vm.disks, vm.nics, vm.owner_user) == ([], [], superuser)
    assert vm.vnc_port is not None and vm.vnc_port >= 5900
    assert vm.uuid == domain.UUIDString()
    assert name in app.page(vm.get_absolute_url())

    # The firmware ignores the power button: the shutdown fails and the VM keeps running.
    job = failed(app.act(vm, "shutdown", timeout="5"))
    assert job.error == (
        f"{name} did not power off within 5 s; the VM is still running. Use force off."
    )
    assert domain.isActive()
    assert row(cluster, name).actual_state == "running"

    succeeded(app.act(vm, "force-off"))
    assert not domain.isActive()
    assert row(cluster, name).actual_state == "stopped"

    succeeded(app.act(vm, "start"))
    assert domain.isActive()
    vm = row(cluster, name)
    assert vm.actual_state == "running" and vm.vnc_port is not None

    job = succeeded(app.act(vm, "reboot", hard="on"))
    assert f"Reset {name} (hard reboot)." in job.log
    assert row(cluster, name).actual_state == "running"

    # Deleting asks for the name typed again; a wrong one deletes nothing.
    response = app.post(vm.get_absolute_url() + "delete/", {"confirm_name": "other"})
    assert response.status_code == 200 and response.context["form"].errors
    job = succeeded(app.act(vm, "delete", confirm_name=name))
    assert not defined(conn, name)
    assert not VirtualMachine.objects.filter(cluster=cluster, name=name).exists()
    assert job.vm is None


def test_a_vm_with_a_file_disk_is_deleted_with_its_volume(app, cluster, conn, vm_prefix):
    name = f"{vm_prefix}disk"

    job = succeeded(app.create(cluster, name, "file", disks=(16,), memory=64, os=None))
    claim(conn, name)
    assert f"Created the disk {name}-disk0.img (16 MiB) in the pool ganetiweb." in job.log
    vm = row(cluster, name)
    assert vm.actual_state == "running"
    assert [disk["size"] for disk in vm.disks] == [16]
    assert volume_names(conn, name) == [f"{name}-disk0.img"]

    job = succeeded(app.act(vm, "delete", confirm_name=name))
    assert f"Deleted the disk {name}-disk0.img." in job.log
    assert not defined(conn, name)
    assert volume_names(conn, name) == []
    assert not VirtualMachine.objects.filter(cluster=cluster, name=name).exists()
