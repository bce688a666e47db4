"""GanetiBackend's lifecycle operations against the real single-node cluster of
scripts/ganeti-testbed (fake hypervisor; file, sharedfile and diskless templates; NICs bridged
to the port-less bridge gnt-br0 by default).

Each Ganeti job takes about a second, so each template goes through its life in one test; a
failure names the step through the assertion's line. The cluster is shared: a test removes only
the instances it created, named ``op-<hex>.gwtest.example``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from clusters.backends.base import (
    GanetiConnection,
    NicSpec,
    NotFound,
    OperationFailed,
    VMChanges,
    VMInfo,
    VMSpec,
)
from clusters.backends.ganeti import GanetiBackend
from clusters.backends.ganeti_ops import child_jobs, modify_body, nic_params
from testbed.ganeti import GanetiTestbed

from .recording import RecordingProgress

# The cluster's default NIC (bridged to gnt-br0), and a routed one, which needs an address.
TWO_NICS = [NicSpec(), NicSpec(mode="routed", ip="198.51.100.7")]


@pytest.fixture
def backend(ganeti_cluster: GanetiTestbed) -> Iterator[GanetiBackend]:
    backend = GanetiBackend(
        GanetiConnection(
            host=ganeti_cluster.rapi_host,
            port=ganeti_cluster.rapi_port,
            username=ganeti_cluster.rapi_user,
            password=ganeti_cluster.rapi_password,
            pinned_fingerprint=ganeti_cluster.cert_sha256,
            timeout=30,
        )
    )
    backend.job_poll = 0.2
    yield backend
    backend.close()


@pytest.fixture
def new_name(ganeti_cluster: GanetiTestbed) -> Iterator[Callable[[], str]]:
    """Gives unique instance names; the instances so named that exist at the end are removed."""
    names: list[str] = []

    def make() -> str:
        names.append(f"op-{secrets.token_hex(4)}.gwtest.example")
        return names[-1]

    yield make
    for name in names:
        ganeti_cluster.remove_instance(name)


def run(operation: Callable, *args, **kwargs) -> RecordingProgress:
    """Run an operation; check it recorded its Ganeti job at once and ended at 100 %."""
    progress = RecordingProgress()
    operation(*args, progress=progress, **kwargs)
    assert progress.remote_jobs, "no Ganeti job id was reported"
    assert progress.lines[0].endswith(f": Ganeti job {progress.remote_jobs[0]}.")
    assert progress.percents[0] == 0 and progress.percents[-1] == 100
    return progress


def refused(operation: Callable, *args, **kwargs) -> str:
    """Run an operation that must fail; return Ganeti's reason."""
    progress = RecordingProgress()
    with pytest.raises(OperationFailed) as caught:
        operation(*args, progress=progress, **kwargs)
    return str(caught.value)


def state(vm: VMInfo) -> tuple:
    return (vm.actual_state, vm.status, vm.primary_node, vm.memory, vm.vcpus, vm.disks, vm.nics)


# --- a file instance through its whole life


def test_a_file_instance_placed_by_hail_lives_through_every_operation(
    backend, ganeti_cluster, new_name
):
    name, renamed = new_name(), new_name()
    master = ganeti_cluster.master_node
    spec = VMSpec(
        name=name,
        memory=64,
        vcpus=1,
        disk_template="file",
        disks=[64],
        nics=TWO_NICS,
        os="noop",
        iallocator="hail",
        tags=["gwtest"],
    )

    # create
    created = run(backend.create_vm, spec)
    assert created.has_line(f"Selected nodes for instance {name} via iallocator hail: {master}")
    assert created.has_line("* creating instance disks...")
    assert created.has_line("* running the instance OS create scripts...")
    assert len(created.remote_jobs) == 1
    vm = backend.read_vm(name)
    assert (vm.actual_state, vm.status, vm.primary_node) == ("running", "running", master)
    assert (vm.memory, vm.vcpus, vm.disk_template, vm.os) == (64, 1, "file", "noop")
    assert [disk.size for disk in vm.disks] == [64]
    assert [(nic.mode, nic.link, nic.ip) for nic in vm.nics] == [
        ("bridged", "gnt-br0", ""),
        ("routed", "gnt-br0", "198.51.100.7"),
    ]
    assert vm.tags == ["gwtest"]
    routed_mac = vm.nics[1].mac

    # shutdown, start, soft reboot
    run(backend.shutdown_vm, name, 10)
    assert backend.read_vm(name).status == "ADMIN_down"
    run(backend.start_vm, name)
    assert backend.read_vm(name).status == "running"
    run(backend.reboot_vm, name)
    assert backend.read_vm(name).status == "running"

    # migration and failover need a second node: refused, and the VM stays as it was
    before = state(backend.read_vm(name))
    assert refused(backend.migrate_vm, name).endswith(
        "Instance's disk layout 'file' does not allow migrations (wrong_state)."
    )
    assert refused(backend.failover_vm, name).endswith(
        "Instance's disk layout 'file' does not allow failovers (wrong_state)."
    )
    assert state(backend.read_vm(name)) == before

    # modify: one modify job (memory, vCPUs, NICs), then one grow job
    changes = VMChanges(
        memory=96, vcpus=2, grow_disks={0: 32}, add_nics=[NicSpec()], remove_nics=[0]
    )
    modified = run(backend.modify_vm, name, changes)
    assert len(modified.remote_jobs) == 2
    assert modified.percents == [0, 50, 50, 100]
    assert modified.has_line(f"Growing disk 0 of instance '{name}' by 32M to 96M")
    vm = backend.read_vm(name)
    assert (vm.memory, vm.vcpus, [disk.size for disk in vm.disks]) == (96, 2, [96])
    assert [(nic.mode, nic.mac) for nic in vm.nics][0] == ("routed", routed_mac)
    assert [nic.mode for nic in vm.nics] == ["routed", "bridged"]

    # a reinstall with an OS Ganeti does not know: refused, and started again as it was
    progress = RecordingProgress()
    with pytest.raises(OperationFailed) as caught:
        backend.reinstall_vm(name, "no-such-os", progress)
    assert str(caught.value).endswith("Directory for OS no-such-os not found in search path.")
    assert progress.has_line(f"Start {name} again, as it was: Ganeti job")
    assert backend.read_vm(name).status == "running"

    # rename: Ganeti renames only a stopped instance
    assert refused(backend.rename_vm, name, renamed).endswith(
        f"Instance '{name}' is marked to be up, cannot rename (wrong_state)."
    )
    run(backend.shutdown_vm, name, 10)
    run(backend.rename_vm, name, renamed)
    assert backend.read_vm(renamed).status == "ADMIN_down"
    with pytest.raises(NotFound, match=f"The Ganeti cluster has no VM named '{name}'."):
        backend.read_vm(name)

    # reinstall: shut down, reinstall, start, in one job
    reinstalled = run(backend.reinstall_vm, renamed, "noop")
    assert reinstalled.has_line("Changing OS scripts to 'noop'...")
    assert reinstalled.has_line("Running instance OS create scripts...")
    assert backend.read_vm(renamed).status == "running"

    # delete
    run(backend.delete_vm, renamed)
    with pytest.raises(NotFound):
        backend.read_vm(renamed)


# --- a diskless instance on a named node, and what one node cannot do


def test_a_diskless_instance_on_a_named_node_powers_and_is_refused_what_needs_two_nodes(
    backend, ganeti_cluster, new_name
):
    name = new_name()
    master = ganeti_cluster.master_node
    spec = VMSpec(
        name=name,
        memory=64,
        vcpus=1,
        disk_template="diskless",
        nics=TWO_NICS,
        os="noop",
        primary_node=master,
    )

    created = run(backend.create_vm, spec)
    assert created.has_line("* starting instance...")
    vm = backend.read_vm(name)
    assert (vm.status, vm.primary_node, vm.disk_template, vm.disks) == (
        "running",
        master,
        "diskless",
        [],
    )
    assert [nic.mode for nic in vm.nics] == ["bridged", "routed"]
    before = state(vm)

    # a name already in use
    assert refused(backend.create_vm, spec).endswith(
        f"Instance '{name}' is already in the cluster (already_exists)."
    )
    # no other node to migrate or fail over to (hail finds none; the primary is no target)
    no_node = "iallocator 'hail': Request failed: Can't find any good node"
    assert no_node in refused(backend.migrate_vm, name)
    assert refused(backend.migrate_vm, name, target_node=master).endswith(
        f"Cannot migrate instance {name} to its primary ({master}) (wrong_state)."
    )
    assert no_node in refused(backend.failover_vm, name)
    # the node's operations: each child job of the node migration fails, evacuation finds
    # nowhere to go
    migration = refused(backend.migrate_node, master)
    assert " jobs of Ganeti job " in migration and "Can't find any good node" in migration
    evacuation = refused(backend.evacuate_node, master)
    assert "Unable to evacuate instances" in evacuation and name in evacuation
    assert state(backend.read_vm(name)) == before

    assert refused(backend.reinstall_vm, name, "noop") == (
        f"{name} has no disks, so there is no OS to reinstall."
    )
    # force off, then a hard reboot starts it again
    run(backend.force_off_vm, name)
    assert backend.read_vm(name).status == "ADMIN_down"
    rebooted = run(backend.reboot_vm, name, hard=True)
    assert rebooted.has_line(f"Instance {name} was already stopped, starting now")
    assert backend.read_vm(name).status == "running"

    run(backend.delete_vm, name)
    with pytest.raises(NotFound):
        backend.read_vm(name)


# --- creations refused with Ganeti's reason


@pytest.mark.parametrize("template", ["drbd", "plain"])
def test_a_disk_template_not_enabled_is_refused(backend, new_name, template):
    spec = VMSpec(
        name=new_name(), memory=64, vcpus=1, disk_template=template, disks=[64], os="noop"
    )

    assert refused(backend.create_vm, spec).endswith(
        f"Disk template '{template}' is not enabled in cluster. Enabled disk templates are: "
        "file,sharedfile,diskless."
    )


def test_more_memory_than_the_node_has_is_refused(backend, ganeti_cluster, new_name):
    node = backend.get(f"/2/nodes/{ganeti_cluster.master_node}")
    name = new_name()
    spec = VMSpec(
        name=name,
        memory=node["mtotal"] + 1024,
        vcpus=1,
        disk_template="diskless",
        os="noop",
        primary_node=ganeti_cluster.master_node,
    )

    reason = refused(backend.create_vm, spec)

    # The instance policy allows up to 32 GiB: a bigger node refuses by policy first.
    assert (
        f"Not enough memory on node {ganeti_cluster.master_node} for creating instance {name}"
        in reason
        or f"violates policy: memory-size value {spec.memory} is not in range" in reason
    ), reason
    with pytest.raises(NotFound):
        backend.read_vm(name)


def test_memory_beyond_the_instance_policy_is_refused(backend, ganeti_cluster, new_name):
    spec = VMSpec(
        name=new_name(),
        memory=40000,
        vcpus=1,
        disk_template="diskless",
        os="noop",
        primary_node=ganeti_cluster.master_node,  # hail would say FailMem first
    )

    assert "violates policy: memory-size value 40000 is not in range" in refused(
        backend.create_vm, spec
    )


# --- node roles


def test_the_master_node_can_be_neither_drained_nor_made_regular(backend, ganeti_cluster):
    master = ganeti_cluster.master_node

    for role in ("drained", "regular", "offline"):
        assert refused(backend.set_node_role, master, role).endswith(
            "The master role can be changed only via master-failover (wrong_input)."
        )

    assert backend.get(f"/2/nodes/{master}/role") == "master"


def test_a_role_ganeti_cannot_set_is_refused_before_anything_is_sent(backend, ganeti_cluster):
    progress = RecordingProgress()

    with pytest.raises(OperationFailed, match="set to offline, drained, regular; not to 'master'"):
        backend.set_node_role(ganeti_cluster.master_node, "master", progress)

    assert progress.remote_jobs == []


def test_following_a_job_of_a_dead_worker_copies_its_log(backend, ganeti_cluster):
    job_id = backend.post(
        f"/2/nodes/{ganeti_cluster.master_node}/evacuate",
        {"mode": "secondary-only", "iallocator": "hail"},
    )
    progress = RecordingProgress()

    backend.follow_remote_job(str(job_id), progress)

    assert progress.has_line(f"No instances to evacuate from node '{ganeti_cluster.master_node}'")
    assert progress.has_line(f"Ganeti job {job_id} had nothing to do.")


# --- request bodies and job results, without the cluster


def test_a_nic_sends_only_what_is_set_and_a_network_without_mode_or_link():
    assert nic_params(NicSpec()) == {}
    assert nic_params(NicSpec(mode="routed", link="100", ip="198.51.100.7")) == {
        "mode": "routed",
        "link": "100",
        "ip": "198.51.100.7",
    }
    assert nic_params(NicSpec(network="vmnet", mode="bridged", link="br0", ip="pool")) == {
        "network": "vmnet",
        "ip": "pool",
    }


def test_a_modification_removes_nics_last_first_before_adding():
    body = modify_body(VMChanges(memory=256, remove_nics=[0, 2], add_nics=[NicSpec(link="br1")]))

    assert body == {
        "beparams": {"maxmem": 256, "minmem": 256},
        "nics": [["remove", 2, {}], ["remove", 0, {}], ["add", -1, {"link": "br1"}]],
    }
    assert modify_body(VMChanges(grow_disks={0: 1024})) == {}


def test_child_jobs_are_read_from_a_node_operations_result():
    job = {"opresult": [{"jobs": [[True, 12], [False, "Instance x is down"]]}]}

    assert child_jobs(job) == [(True, 12), (False, "Instance x is down")]
    assert child_jobs({"opresult": [["node1"]]}) is None
    assert child_jobs({"opresult": [None, None]}) is None
