"""Storing an inventory: only changes are written; vanished VMs are kept as missing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.backends.base import DiskInfo
from clusters.models import Node
from tests.clusters.factories import make_cluster, make_inventory
from vms.models import VirtualMachine
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


def _writes(queries):
    return [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_it_creates_nodes_and_vms_from_the_inventory():
    cluster = make_cluster()
    result = store_inventory(cluster, make_inventory(vm_count=3))
    assert (result.created, result.updated, result.missing) == (3, 0, 0)
    vm = VirtualMachine.objects.get(name="vm1.example.org")
    assert vm.primary_node.name == "node1"
    assert vm.secondary_nodes == ["node2"]
    assert vm.disks == [{"size": 10240, "name": "root", "uuid": ""}]
    assert vm.nics[0]["mac"] == "aa:00:00:00:00:01"
    assert Node.objects.get(name="node1").role == "master"
    cluster.refresh_from_db()
    assert cluster.operating_systems == ["noop"]
    assert cluster.software_version == "3.0.2"


def test_a_second_sync_with_no_changes_writes_nothing():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=5))
    cluster.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        result = store_inventory(cluster, make_inventory(vm_count=5))
    assert _writes(queries.captured_queries) == []
    assert (result.created, result.updated, result.missing, result.unchanged) == (0, 0, 0, 5)


def test_it_updates_only_the_vms_that_changed():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=3))
    inventory = make_inventory(vm_count=3)
    inventory.vms[1].actual_state = "stopped"
    inventory.vms[1].memory = 2048
    result = store_inventory(cluster, inventory)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    vm = VirtualMachine.objects.get(name="vm2.example.org")
    assert (vm.actual_state, vm.memory) == ("stopped", 2048)


def test_a_vm_moved_to_another_node_points_at_it_and_keeps_its_other_fields():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=2))
    inventory = make_inventory(vm_count=2)
    inventory.vms[0].primary_node, inventory.vms[0].secondary_nodes = "node2", ["node1"]
    inventory.vms[0].disks.append(DiskInfo(size=2048, name="data"))
    result = store_inventory(cluster, inventory)
    assert (result.updated, result.unchanged) == (1, 1)
    vm = VirtualMachine.objects.get(name="vm1.example.org")
    assert (vm.primary_node.name, vm.secondary_nodes) == ("node2", ["node1"])
    assert vm.disks == [
        {"size": 10240, "name": "root", "uuid": ""},
        {"size": 2048, "name": "data", "uuid": ""},
    ]
    assert (vm.memory, vm.nics[0]["mac"], vm.status) == (1024, "aa:00:00:00:00:01", "running")


def test_a_node_whose_figures_changed_is_updated():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory())
    inventory = make_inventory()
    inventory.nodes[1].memory_free, inventory.nodes[1].role = 1024, "drained"
    store_inventory(cluster, inventory)
    node = Node.objects.get(name="node2")
    assert (node.memory_free, node.role, node.memory_total) == (1024, "drained", 32768)


def test_a_vm_gone_from_the_cluster_is_marked_missing_and_keeps_its_owner(django_user_model):
    owner = django_user_model.objects.create_user("olivia")
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=2))
    VirtualMachine.objects.filter(name="vm2.example.org").update(owner_user=owner)
    inventory = make_inventory(vm_count=2)
    del inventory.vms[1]
    result = store_inventory(cluster, inventory)
    assert result.missing == 1
    vm = VirtualMachine.objects.get(name="vm2.example.org")
    assert vm.missing and vm.missing_since is not None
    assert vm.owner_user == owner
    # Still missing on the next sync: not written again.
    assert store_inventory(cluster, inventory).missing == 0


def test_a_vm_that_comes_back_is_no_longer_missing():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=2))
    shorter = make_inventory(vm_count=1)
    store_inventory(cluster, shorter)
    store_inventory(cluster, make_inventory(vm_count=2))
    vm = VirtualMachine.objects.get(name="vm2.example.org")
    assert not vm.missing and vm.missing_since is None


def test_a_node_gone_from_the_cluster_is_flagged_not_deleted():
    cluster = make_cluster()
    store_inventory(cluster, make_inventory(vm_count=1, node_count=2))
    store_inventory(cluster, make_inventory(vm_count=1, node_count=1))
    assert Node.objects.get(name="node2").missing is True
    assert Node.objects.get(name="node1").missing is False
