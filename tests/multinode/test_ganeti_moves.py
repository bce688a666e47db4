"""Moving instances between the two nodes of a real Ganeti cluster, through the application.

The cluster is the two-node bed of ``scripts/ganeti-testbed up --multi``: node2 (the master)
and node3, each in its own network, mount and UTS namespaces, with the fake hypervisor and the
``sharedfile`` disk template on a directory both nodes see, so instances migrate and fail over
without DRBD. Every operation is a form posted as a superuser and a job run by the test worker;
Ganeti's own jobs do the moves. Instances are named `app-<hex>.gwtest.example` and removed at
the end, whatever happens; a test that takes a node down brings it back.
"""

import contextlib
import secrets
from collections.abc import Callable, Iterator

import pytest

from clusters.models import Node
from testbed.ganeti import instance_body
from testbed.multinode import GanetiPair
from vms.models import VirtualMachine

from ..integration.application import describe, failed, succeeded

pytestmark = pytest.mark.django_db

DISK = (16,)  # MiB, a sparse file in the shared directory
FAKE_HV_DIR = "/var/run/ganeti/fake-hypervisor"  # one file per instance the node runs


@pytest.fixture
def names(ganeti_pair: GanetiPair) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def make() -> str:
        made.append(f"app-{secrets.token_hex(4)}.gwtest.example")
        return made[-1]

    yield make
    for name in made:
        ganeti_pair.remove_instance(name)


@pytest.fixture
def cluster(app, ganeti_pair):
    return app.register(
        name="Two Ganeti nodes",
        slug="gwpair",
        kind="ganeti",
        rapi_host=ganeti_pair.rapi_host,
        rapi_port=str(ganeti_pair.rapi_port),
        rapi_user=ganeti_pair.rapi_user,
        rapi_password=ganeti_pair.rapi_password,
        pinned_fingerprint=ganeti_pair.cert_sha256,
    )


@pytest.fixture
def master(cluster, ganeti_pair):
    return Node.objects.get(cluster=cluster, name=ganeti_pair.master_node)


@pytest.fixture
def other(cluster, ganeti_pair):
    return Node.objects.get(cluster=cluster, name=ganeti_pair.other_node)


def row(cluster, name):
    return VirtualMachine.objects.select_related("cluster", "primary_node").get(
        cluster=cluster, name=name
    )


def where(ganeti_pair, name):
    """(primary node, status) of an instance, as Ganeti itself says."""
    info = ganeti_pair.rapi("GET", f"/2/instances/{name}")
    return info["pnode"], info["status"]


def create(app, cluster, name, node, memory=64):
    job = succeeded(
        app.create(cluster, name, "sharedfile", disks=DISK, memory=memory, placement=node.name)
    )
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state, vm.disk_template) == (node, "running", "sharedfile")
    return vm, job


@contextlib.contextmanager
def node_daemon_stopped(ganeti_pair, node):
    """The node's ganeti-noded stopped, as when the machine is down; started again after."""
    daemon_util = "/usr/lib/ganeti/daemon-util"
    ganeti_pair.node_exec(node, daemon_util, "stop", "ganeti-noded")
    try:
        yield
    finally:
        ganeti_pair.node_exec(node, daemon_util, "start", "ganeti-noded")


def test_an_instance_migrates_live_to_the_other_node_and_back_and_keeps_running(
    app, cluster, ganeti_pair, names, master, other
):
    name = names()
    vm, _ = create(app, cluster, name, master)

    job = succeeded(app.act(vm, "migrate", target_node=other.name))
    assert "* starting memory transfer" in job.log, describe(job)
    assert where(ganeti_pair, name) == (other.name, "running")
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (other, "running")
    assert other.name in app.page(vm.get_absolute_url())

    # Back, with the node left to Ganeti's allocator: the only other node.
    succeeded(app.act(vm, "migrate", target_node=""))
    assert where(ganeti_pair, name) == (master.name, "running")
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (master, "running")


def test_an_instance_fails_over_to_the_other_node_and_runs_there(
    app, cluster, ganeti_pair, names, master, other
):
    name = names()
    vm, _ = create(app, cluster, name, master)

    job = succeeded(app.act(vm, "failover", target_node=other.name))
    assert "* starting the instance on the target node" in job.log, describe(job)
    assert where(ganeti_pair, name) == (other.name, "running")
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (other, "running")


def test_evacuating_a_node_moves_its_instances_to_the_other_node(
    app, cluster, ganeti_pair, names, master, other
):
    first, second = names(), names()
    create(app, cluster, first, other)
    create(app, cluster, second, other)

    job = succeeded(app.act_on_node(other, "evacuate"))

    assert job.node == other, describe(job)
    for name in (first, second):
        assert where(ganeti_pair, name) == (master.name, "running")
        vm = row(cluster, name)
        assert (vm.primary_node, vm.actual_state) == (master, "running")
    other.refresh_from_db()
    assert other.primary_count == 0


def test_the_instances_of_a_node_marked_offline_fail_over_to_the_other_node(
    app, cluster, ganeti_pair, names, master, other
):
    name = names()
    vm, _ = create(app, cluster, name, other)

    # node3 goes down: its node daemon stops, and the instance it ran is gone with it.
    try:
        with node_daemon_stopped(ganeti_pair, other.name):
            ganeti_pair.node_exec(other.name, "rm", "-f", f"{FAKE_HV_DIR}/{name}")
            succeeded(app.act_on_node(other, "offline"))
            other.refresh_from_db()
            assert other.role == "offline"

            job = succeeded(app.act(row(cluster, name), "failover", target_node=master.name))
            assert where(ganeti_pair, name) == (master.name, "running"), describe(job)
            vm = row(cluster, name)
            assert (vm.primary_node, vm.actual_state) == (master, "running")
    finally:
        _set_role(ganeti_pair, other.name, "regular")


def test_a_migration_to_a_node_without_the_memory_fails_with_the_reason_and_the_vm_stays(
    app, cluster, ganeti_pair, names, master, other
):
    name, ballast = names(), names()
    vm, _ = create(app, cluster, name, master, memory=1024)
    # The fake hypervisor counts its instances' memory as used: one as big as node3's free
    # memory but 128 MiB leaves no room there for a 1024 MiB instance. Made through RAPI,
    # as a VM someone else runs.
    free = ganeti_pair.rapi("GET", f"/2/nodes/{other.name}")["mfree"]
    made = ganeti_pair.rapi(
        "POST",
        "/2/instances",
        instance_body(ballast, memory=free - 128, pnode=other.name, nics=[]),
    )
    assert ganeti_pair.wait_for_job(made)["status"] == "success"

    job = failed(app.act(vm, "migrate", target_node=other.name))

    assert f"Not enough memory on node {other.name}" in job.error, describe(job)
    assert "needed 1024 MiB" in job.error, describe(job)
    assert where(ganeti_pair, name) == (master.name, "running")
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (master, "running")


def test_a_migration_to_a_node_that_is_down_fails_with_the_reason_and_the_vm_stays(
    app, cluster, ganeti_pair, names, master, other
):
    name = names()
    vm, _ = create(app, cluster, name, master)

    with node_daemon_stopped(ganeti_pair, other.name):
        job = failed(app.act(vm, "migrate", target_node=other.name))

    assert other.name in job.error, describe(job)
    assert where(ganeti_pair, name) == (master.name, "running")
    vm = row(cluster, name)
    assert (vm.primary_node, vm.actual_state) == (master, "running")


def _set_role(ganeti_pair, node, role):
    job = ganeti_pair.rapi(
        "PUT", f"/2/nodes/{node}/role", role, params={"force": 1, "auto-promote": 1}
    )
    assert ganeti_pair.wait_for_job(job)["status"] == "success", f"{node} is not {role} again"
