"""VMs on the real Ganeti test cluster, asked for through the application from start to end.

Every step posts a form as a superuser; the job it queues runs in the test worker against the
single-node cluster of scripts/ganeti-testbed (fake hypervisor; file, sharedfile and diskless
templates; NICs bridged to gnt-br0 by default). Then the Job row, the VM row and the pages are
checked. Each Ganeti job takes a second or two, so each VM goes through its life in one test;
a failure names its step by the assertion's line. Instances are named `app-<hex>.gwtest.example`
and removed at the end, whatever happens.

The cluster is shared with other test runs and benchmarks, whose instances use up the vCPUs
hail will allocate (FailCPU), so the admin places each VM on the node rather than asking hail.
"""

import pytest
from django.urls import reverse
from django.utils.html import escape

from clusters.models import Node
from testbed.ganeti import RapiError, instance_body
from vms.models import VirtualMachine

from .application import describe, failed, succeeded

pytestmark = pytest.mark.django_db

# One NIC on the cluster's defaults (bridged to gnt-br0), one routed, which needs an address.
DEFAULT_NIC = {}


def routed_nic(ip):
    return {"mode": "routed", "ip": ip}


@pytest.fixture
def cluster(app, ganeti_cluster):
    return app.register_ganeti(ganeti_cluster)


def on_cluster(ganeti_cluster, name):
    try:
        ganeti_cluster.rapi("GET", f"/2/instances/{name}")
    except RapiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def row(cluster, name):
    return VirtualMachine.objects.select_related("cluster", "primary_node").get(
        cluster=cluster, name=name
    )


def test_a_file_instance_lives_through_every_operation_asked_for_in_the_application(
    app, cluster, ganeti_cluster, instance_names, superuser
):
    name, renamed = instance_names(), instance_names()
    master = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)

    # create: two NICs, a 64 MiB file disk, the noop OS
    job = succeeded(
        app.create(
            cluster,
            name,
            "file",
            disks=(64,),
            nics=(DEFAULT_NIC, routed_nic("198.51.100.7")),
            placement=master.name,
        )
    )
    assert job.remote_job_id
    assert "* creating instance disks..." in job.log  # Ganeti's own oplog
    assert "* running the instance OS create scripts..." in job.log
    vm = row(cluster, name)
    assert job.vm == vm
    assert (vm.actual_state, vm.memory, vm.vcpus, vm.disk_template, vm.os) == (
        "running",
        64,
        1,
        "file",
        "noop",
    )
    assert [disk["size"] for disk in vm.disks] == [64]
    assert [(nic["mode"], nic["link"], nic["ip"]) for nic in vm.nics] == [
        ("bridged", "gnt-br0", ""),
        ("routed", "gnt-br0", "198.51.100.7"),
    ]
    assert (vm.primary_node, vm.owner_user) == (master, superuser)
    assert name in app.page(vm.get_absolute_url())

    # shut down, start, reboot
    succeeded(app.act(vm, "shutdown", timeout="10"))
    vm = row(cluster, name)
    assert (vm.actual_state, vm.status) == ("stopped", "ADMIN_down")
    succeeded(app.act(vm, "start"))
    assert row(cluster, name).actual_state == "running"
    succeeded(app.act(vm, "reboot"))
    assert row(cluster, name).actual_state == "running"

    # Ganeti cannot move a file instance: the application does not even ask
    refusal = app.refused(vm, "migrate", target_node="")
    assert refusal.startswith("live migrate is not possible for")
    assert "fail over is not possible" in app.refused(vm, "failover", target_node="")

    # modify: memory and vCPUs, grow the disk, add a NIC, in one job of two Ganeti jobs
    job = succeeded(
        app.act(
            vm,
            "modify",
            memory="96",
            vcpus="2",
            grow_disk="0",
            grow_by="32",
            add_nic_link="gnt-br0",
        )
    )
    assert f"Growing disk 0 of instance '{name}' by 32M to 96M" in job.log
    vm = row(cluster, name)
    assert (vm.memory, vm.vcpus, [disk["size"] for disk in vm.disks]) == (96, 2, [96])
    assert [nic["mode"] for nic in vm.nics] == ["bridged", "routed", "bridged"]

    # rename: only a stopped instance (Ganeti's rule, which the application applies first)
    assert "rename is not possible" in app.refused(vm, "rename", new_name=renamed)
    succeeded(app.act(vm, "shutdown", timeout="10"))
    succeeded(app.act(row(cluster, name), "rename", new_name=renamed))
    assert not VirtualMachine.objects.filter(cluster=cluster, name=name).exists()
    vm = row(cluster, renamed)
    assert (vm.actual_state, vm.memory, vm.owner_user) == ("stopped", 96, superuser)
    assert renamed in app.page(vm.get_absolute_url())

    # reinstall while stopped: Ganeti reinstalls it and starts it
    job = succeeded(app.act(vm, "reinstall", os="noop", confirm="on"))
    assert "Running instance OS create scripts..." in job.log
    assert row(cluster, renamed).actual_state == "running"

    # delete: gone from the cluster and from the database
    job = succeeded(app.act(vm, "delete", confirm_name=renamed))
    assert not VirtualMachine.objects.filter(cluster=cluster, name=renamed).exists()
    assert job.vm is None and job.target == renamed
    assert not on_cluster(ganeti_cluster, renamed)


def test_a_diskless_instance_changes_and_fails_to_move_from_the_only_node_with_its_reason(
    app, cluster, ganeti_cluster, instance_names
):
    name, renamed = instance_names(), instance_names()
    master = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)

    job = succeeded(
        app.create(
            cluster,
            name,
            "diskless",
            nics=(DEFAULT_NIC, routed_nic("198.51.100.8")),
            placement=master.name,
        )
    )
    assert "* starting instance..." in job.log
    vm = row(cluster, name)
    assert (vm.actual_state, vm.disk_template, vm.disks, vm.primary_node) == (
        "running",
        "diskless",
        [],
        master,
    )
    assert [nic["mode"] for nic in vm.nics] == ["bridged", "routed"]

    succeeded(app.act(vm, "shutdown", timeout="10"))
    assert row(cluster, name).actual_state == "stopped"
    succeeded(app.act(vm, "start"))
    assert row(cluster, name).actual_state == "running"
    job = succeeded(app.act(vm, "reboot", hard="on"))
    assert f"Reboot {name} (hard): Ganeti job {job.remote_job_id}." in job.log
    assert row(cluster, name).actual_state == "running"

    job = succeeded(app.act(vm, "modify", memory="96", vcpus="2", add_nic_link="gnt-br0"))
    vm = row(cluster, name)
    assert (vm.memory, vm.vcpus, len(vm.nics)) == (96, 2, 3)

    # A diskless instance can move, but there is no other node: the allocator finds none.
    for action in ("migrate", "failover"):
        job = failed(app.act(vm, action, target_node=""))
        assert "Can't find any good node" in job.error, describe(job)
        vm = row(cluster, name)
        assert (vm.actual_state, vm.primary_node) == ("running", master)

    succeeded(app.act(vm, "shutdown", timeout="10"))
    succeeded(app.act(row(cluster, name), "rename", new_name=renamed))
    vm = row(cluster, renamed)
    assert vm.actual_state == "stopped"

    # There is no disk to reinstall an OS on: the job says so, and nothing changed.
    job = failed(app.act(vm, "reinstall", os="noop", confirm="on"))
    assert job.error == f"{renamed} has no disks, so there is no OS to reinstall."
    assert row(cluster, renamed).actual_state == "stopped"

    succeeded(app.act(vm, "delete", confirm_name=renamed))
    assert not VirtualMachine.objects.filter(cluster=cluster, name__in=[name, renamed]).exists()
    assert not on_cluster(ganeti_cluster, renamed)


def test_a_creation_ganeti_refuses_fails_with_its_reason_and_makes_no_vm_row(
    app, cluster, ganeti_cluster, instance_names
):
    # An instance made outside the application, after the last sync: the form cannot know it.
    name = instance_names()
    master = ganeti_cluster.master_node
    made = ganeti_cluster.rapi(
        "POST", "/2/instances", instance_body(name, start=False, pnode=master)
    )
    made = ganeti_cluster.wait_for_job(made)
    assert made["status"] == "success", made["opresult"]

    job = failed(app.create(cluster, name, "diskless", nics=(DEFAULT_NIC,), placement=master))

    assert f"Instance '{name}' is already in the cluster (already_exists)." in job.error
    assert escape(job.error) in app.page(job.get_absolute_url())
    assert job.vm is None
    assert not VirtualMachine.objects.filter(cluster=cluster, name=name).exists()


def test_draining_the_master_node_fails_with_ganetis_reason(app, cluster, ganeti_cluster):
    master = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)

    job = failed(app.act_on_node(master, "drain"))

    assert "The master role can be changed only via master-failover" in job.error
    assert job.node == master
    master.refresh_from_db()  # the sync the job queued read the node back
    assert master.role == "master"
    assert job.target in app.page(master.get_absolute_url())
    app.page(reverse("jobs:list") + "?scope=all")
