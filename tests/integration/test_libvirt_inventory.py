"""Register the real libvirtd as a cluster; its QEMU VMs appear with state, memory and VNC port."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from clusters.models import Cluster
from testbed.libvirt import vnc_endpoint
from vms.models import VirtualMachine

pytestmark = pytest.mark.django_db


def _register(client, worker, capture, uris):
    data = {
        "name": "Local hosts",
        "slug": "local",
        "kind": "libvirt",
        "libvirt_uris": uris,
        "rapi_port": "5080",
        "certificate_trust": "pinned",
        "on_this_machine": "on",  # the test libvirtd is this machine's
    }
    with capture(execute=True):
        response = client.post(reverse("clusters:create"), data)
    assert response.status_code == 302
    assert worker.run() == 0
    return Cluster.objects.get(slug="local")


def test_a_qemu_vm_defined_in_libvirtd_appears_with_its_state_memory_and_vnc_port(
    client, superuser, worker, libvirt_uri, tiny_vm, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    cluster = _register(client, worker, django_capture_on_commit_callbacks, libvirt_uri)
    assert cluster.last_sync_error == ""
    assert cluster.connection_test["state"] == "succeeded"
    node = cluster.nodes.get()
    assert node.libvirt_uri == libvirt_uri and node.memory_total > 0 and node.cpus > 0
    vm = VirtualMachine.objects.get(cluster=cluster, name=tiny_vm.name())
    host, port = vnc_endpoint(tiny_vm)
    assert (vm.actual_state, vm.memory, vm.vcpus) == ("running", 64, 1)
    assert (vm.vnc_host, vm.vnc_port) == (host, port)
    assert vm.uuid == tiny_vm.UUIDString()
    assert vm.primary_node == node
    assert client.get(vm.get_absolute_url()).status_code == 200


def test_a_vm_shut_off_in_libvirtd_shows_stopped_after_the_next_sync(
    client, superuser, worker, libvirt_uri, tiny_vm, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    cluster = _register(client, worker, django_capture_on_commit_callbacks, libvirt_uri)
    tiny_vm.destroy()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clusters:sync", args=[cluster.slug]))
    assert worker.run() == 0
    assert VirtualMachine.objects.get(name=tiny_vm.name()).actual_state == "stopped"


def test_an_unreachable_host_is_a_readable_error(
    client, superuser, worker, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    cluster = _register(
        client, worker, django_capture_on_commit_callbacks, "qemu+tcp://127.0.0.1:1/system"
    )
    assert "127.0.0.1" in cluster.last_sync_error
    assert cluster.connection_test["state"] == "failed"
    response = client.get(cluster.get_absolute_url())
    assert response.status_code == 200
    assert escape(cluster.last_sync_error) in response.content.decode()
