"""Metric sampling (vms/metrics.py) against the real services: a QEMU VM on the test libvirtd,
the Ganeti test bed, Redis for the queue, the claim and the previous readings."""

import math
import os
import secrets
import time

import pytest

from clusters.metrics import store
from clusters.metrics.names import NODE_METRICS, VM_METRICS
from clusters.models import Cluster, Node
from jobs.models import Job, JobStatus
from testbed.libvirt import define_tiny_vm, tiny_domain_xml
from tests.clusters.factories import make_cluster
from tests.fixtures_services import OWNER
from vms import metrics
from vms.management.commands.run_scheduler import tick_metrics
from vms.models import VirtualMachine
from vms.sync import sync_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_vm(libvirt_conn, vm_prefix, tmp_path):
    """A running tiny QEMU guest with a disk (its firmware reads the boot sector) and a NIC."""
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"")
    os.truncate(disk, 8 * 1024 * 1024)
    name = f"{vm_prefix}{secrets.token_hex(2)}"
    xml = tiny_domain_xml(name, description=OWNER.format(pid=os.getpid())).replace(
        "<devices>",
        f"""<devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/><source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    <interface type='ethernet'><model type='virtio'/></interface>""",
    )
    domain = libvirt_conn.defineXML(xml)
    domain.create()
    return domain


@pytest.fixture
def libvirt_cluster(libvirt_uri):
    return make_cluster("local", kind="libvirt", libvirt_uris=libvirt_uri)


def synced(cluster):
    result = sync_cluster(cluster.pk)
    assert result.error == "", f"the sync failed: {result.error}"


def sample_round(cluster, worker, django_capture_on_commit_callbacks):
    """One sampling job queued and run by a worker, as the scheduler and a worker do it."""
    with django_capture_on_commit_callbacks(execute=True):
        job = metrics.enqueue_metrics(cluster)
    assert job is not None
    assert worker.run() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def latest(subject, table):
    return {
        name: point.value
        for name in table
        if (point := store.latest([subject], name).get(subject)) is not None
    }


def test_two_samplings_of_a_running_qemu_vm_give_cpu_memory_disk_and_network_series(
    libvirt_cluster, busy_vm, worker, django_capture_on_commit_callbacks
):
    synced(libvirt_cluster)
    vm = VirtualMachine.objects.get(cluster=libvirt_cluster, name=busy_vm.name())
    node = Node.objects.get(cluster=libvirt_cluster)
    sample_round(libvirt_cluster, worker, django_capture_on_commit_callbacks)
    # A first round has the gauges only: a rate needs two readings.
    assert set(latest(f"vm:{vm.pk}", VM_METRICS)) == {"memory_used_mib"}
    time.sleep(3)  # the firmware keeps the vCPU busy meanwhile
    sample_round(libvirt_cluster, worker, django_capture_on_commit_callbacks)

    vm_values = latest(f"vm:{vm.pk}", VM_METRICS)
    assert set(vm_values) == set(VM_METRICS)
    assert 0 < vm_values["cpu_percent"] <= 100, "the CPU series does not move"
    assert 0 < vm_values["memory_used_mib"] <= 64 * 2
    assert all(value >= 0 and math.isfinite(value) for value in vm_values.values())
    node_values = latest(f"node:{node.pk}", NODE_METRICS)
    assert {"cpu_percent", "memory_used_mib", "memory_total_mib"} <= set(node_values)
    assert 0 <= node_values["cpu_percent"] <= 100
    assert 0 < node_values["memory_used_mib"] < node_values["memory_total_mib"]
    cluster = Cluster.objects.get(pk=libvirt_cluster.pk)
    assert "load average (libvirt does not give it)" in cluster.info["metrics_unavailable"]
    # The sync keeps what the sampling stored.
    synced(cluster)
    cluster.refresh_from_db()
    assert "metrics_unavailable" in cluster.info


def test_a_vm_restarted_between_samplings_gives_no_negative_rate(libvirt_cluster, busy_vm, worker):
    synced(libvirt_cluster)
    vm = VirtualMachine.objects.get(cluster=libvirt_cluster, name=busy_vm.name())
    time.sleep(2)  # counters well past what a fresh start reaches at once
    first = metrics.points_of(libvirt_cluster, libvirt_backend_sample(libvirt_cluster))
    assert any(point.subject == f"vm:{vm.pk}" for point in first)
    busy_vm.destroy()
    busy_vm.create()
    second = metrics.points_of(libvirt_cluster, libvirt_backend_sample(libvirt_cluster))
    mine = {p.metric: p.value for p in second if p.subject == f"vm:{vm.pk}"}
    assert "memory_used_mib" in mine
    assert "cpu_percent" not in mine  # the CPU counter went back: no point this round
    assert all(value >= 0 for value in mine.values()), mine


def libvirt_backend_sample(cluster):
    from clusters.services import backend_for

    backend = backend_for(cluster)
    try:
        return backend.sample()
    finally:
        backend.close()


def test_the_ganeti_beds_nodes_give_memory_and_disk_series(
    ganeti_cluster, worker, django_capture_on_commit_callbacks
):
    cluster = make_cluster(
        "bed",
        rapi_host=ganeti_cluster.rapi_host,
        rapi_port=ganeti_cluster.rapi_port,
        rapi_user=ganeti_cluster.rapi_user,
        rapi_password=ganeti_cluster.rapi_password,
        pinned_fingerprint=ganeti_cluster.cert_sha256,
        on_this_machine=False,
    )
    synced(cluster)
    node = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)
    sample_round(cluster, worker, django_capture_on_commit_callbacks)
    values = latest(f"node:{node.pk}", NODE_METRICS)
    assert {"memory_used_mib", "memory_total_mib", "disk_used_mib", "disk_total_mib"} <= set(values)
    assert 0 < values["memory_used_mib"] < values["memory_total_mib"]
    assert 0 < values["disk_used_mib"] < values["disk_total_mib"]
    cluster.refresh_from_db()
    unavailable = cluster.info["metrics_unavailable"]
    assert any("activity of VMs" in text for text in unavailable)
    # The bed runs mond; its /1/report/all fails there (no LVM, no DRBD), so this is the
    # cpu-avg-load report asked for alone.
    assert 0 <= values["cpu_percent"] <= 100
    assert not any("monitoring daemon" in text for text in unavailable)


def test_the_scheduler_queues_one_sampling_per_cluster_and_not_two_while_one_is_queued(
    worker, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_INTERVAL = 60
    first, second = make_cluster("first"), make_cluster("second")
    with django_capture_on_commit_callbacks(execute=True):
        assert tick_metrics(settings.METRICS_INTERVAL) == 2
        assert tick_metrics(settings.METRICS_INTERVAL) == 0  # not due yet
        # Due again (the round key gone), but the first samplings are still queued.
        worker.connection.delete(*worker.connection.keys("ganetiweb:metrics:*:round"))
        assert tick_metrics(settings.METRICS_INTERVAL) == 0
        assert metrics.enqueue_metrics(first) is None
    assert worker.queued() == 2
    assert Job.objects.filter(kind=metrics.METRICS).count() == 2
    # They run (and fail: nothing answers on these clusters' RAPI port); the claims end.
    worker.run()
    assert set(Job.objects.filter(kind=metrics.METRICS).values_list("status", flat=True)) == {
        JobStatus.FAILED
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert metrics.enqueue_metrics(second) is not None


def test_a_stale_claim_left_by_a_dead_worker_is_taken_over(worker):
    cluster = make_cluster()
    key = f"ganetiweb:metrics:{cluster.pk}:claim"
    worker.connection.set(key, f"dead-job {time.time()}")
    assert metrics.enqueue_metrics(cluster) is None  # fresh: its job may be on its way
    worker.connection.set(key, f"dead-job {time.time() - 600}")
    assert metrics.enqueue_metrics(cluster) is not None


def test_only_the_last_few_sampling_jobs_are_kept(worker, django_capture_on_commit_callbacks):
    cluster = make_cluster()
    for _round in range(metrics.METRICS_JOBS_KEPT + 3):
        with django_capture_on_commit_callbacks(execute=True):
            assert metrics.enqueue_metrics(cluster) is not None
        worker.run()
    assert Job.objects.filter(kind=metrics.METRICS).count() == metrics.METRICS_JOBS_KEPT


def test_a_vm_the_inventory_does_not_know_yet_gives_no_point(
    libvirt_cluster, libvirt_conn, vm_prefix, worker
):
    """Its row comes with the next sync; until then its figures have no subject."""
    define_tiny_vm(libvirt_conn, f"{vm_prefix}new", description=OWNER.format(pid=os.getpid()))
    points = metrics.points_of(libvirt_cluster, libvirt_backend_sample(libvirt_cluster))
    assert not any(point.subject.startswith("vm:") for point in points)
