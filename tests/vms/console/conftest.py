"""The console tests' world: a libvirt cluster with real tiny QEMU guests, synced into the DB."""

import os
import secrets

import pytest
from django.test import Client
from django.urls import reverse

from clusters.models import Node
from testbed.libvirt import define_tiny_vm
from tests.clusters.factories import make_cluster
from tests.fixtures_services import OWNER
from vms.models import VirtualMachine
from vms.sync import sync_cluster

VNC_PASSWORD = "s3cr3t!x"  # libvirt keeps at most 8 characters, like VNC itself


@pytest.fixture
def console_cluster(libvirt_uri):
    return make_cluster("local", kind="libvirt", libvirt_uris=libvirt_uri)


def synced_vm(cluster, name) -> VirtualMachine:
    """The VM's row after a real inventory sync of the test libvirtd (as a worker runs it)."""
    result = sync_cluster(cluster.pk)
    assert result.error == "", f"the sync of the test libvirtd failed: {result.error}"
    return VirtualMachine.objects.select_related("cluster").get(cluster=cluster, name=name)


@pytest.fixture
def console_vm(console_cluster, tiny_vm):
    """A running QEMU guest with VNC on 127.0.0.1 and no password, as a VirtualMachine row."""
    return synced_vm(console_cluster, tiny_vm.name())


@pytest.fixture
def password_domain(libvirt_conn, vm_prefix):
    name = f"{vm_prefix}{secrets.token_hex(2)}"
    return define_tiny_vm(
        libvirt_conn, name, vnc_password=VNC_PASSWORD, description=OWNER.format(pid=os.getpid())
    )


@pytest.fixture
def password_vm(console_cluster, password_domain):
    """A running QEMU guest whose VNC server wants VNC_PASSWORD."""
    return synced_vm(console_cluster, password_domain.name())


@pytest.fixture
def ganeti_password_vm(password_vm):
    """A Ganeti VM row whose VNC console is password_vm's QEMU server, wanting VNC_PASSWORD.

    The Ganeti test bed runs the fake hypervisor, which has no VNC console, and a KVM node is
    out of reach here; so the row is written as a sync of a KVM instance (primary node's
    address, the instance's network_port) would write it, pointing at a real QEMU VNC server
    that asks for a password as Ganeti's vnc_password_file makes KVM do. The consumer, the
    VNC server and the login are real; the cluster has no RAPI behind it (the test needs none).
    """
    cluster = make_cluster("kvm", kind="ganeti", vnc_password=VNC_PASSWORD)
    node = Node.objects.create(cluster=cluster, name="node1", address="127.0.0.1", role="master")
    return VirtualMachine.objects.create(
        cluster=cluster,
        name="inst1.example.org",
        primary_node=node,
        actual_state="running",
        wanted_state="up",
        memory=64,
        vcpus=1,
        vnc_host=password_vm.vnc_host,
        vnc_port=password_vm.vnc_port,
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ticket_for(client, vm) -> dict:
    response = client.post(reverse("vms:console_ticket", args=[vm.cluster.slug, vm.name]))
    assert response.status_code == 200, response.content
    return response.json()
