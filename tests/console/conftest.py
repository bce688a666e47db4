"""The console tests' world: a libvirt cluster with real tiny QEMU guests, synced into the DB."""

import os
import secrets

import pytest
from django.test import Client
from django.urls import reverse

from clusters.sync import sync_cluster
from testbed.libvirt import define_tiny_vm
from tests.clusters.factories import make_cluster
from tests.fixtures_services import OWNER
from vms.models import VirtualMachine

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


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ticket_for(client, vm) -> dict:
    response = client.post(reverse("vms:console_ticket", args=[vm.cluster.slug, vm.name]))
    assert response.status_code == 200, response.content
    return response.json()
