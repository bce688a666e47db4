"""Metric sampling: a job per cluster every METRICS_INTERVAL seconds that reads the cluster's
figures in bulk (Backend.sample), turns counters into rates and records the points.

It lives in vms/ because it maps the cluster's VM names to VirtualMachine rows (and node names
to Node rows): it needs both clusters and VMs.

The previous reading of each cluster's counters, which a rate needs, is kept in Redis (the
RQ connection every worker shares) under one key per cluster that expires after a few
intervals: it is rewritten whole every round, losing it costs one round's rates and nothing
else, and a database row per VM rewritten every minute would be the busiest table of the
application for a value nobody reads twice. An expired or damaged key only means no rates
this round; a cluster that was removed leaves nothing behind.
"""

from __future__ import annotations

import time
import uuid

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rq.job import Job as RQJob

from clusters.backends import ganeti, libvirt_sample
from clusters.backends.base import NodeSample, Sample, VMSample
from clusters.jobs import PENDING, STALE_CLAIM, is_group_cluster, require_cluster_admin
from clusters.metrics import rates
from clusters.metrics.store import Point, record
from clusters.models import Cluster, Node
from clusters.services import backend_for
from jobs import registry, runner
from jobs.models import Job
from vms.jobs import CLUSTER_ERRORS
from vms.models import VirtualMachine

METRICS = "metrics"
QUEUE = "low"  # behind every VM operation and sync
TIMEOUT = 300
# A rate over a gap longer than this many intervals is not taken (a worker was down).
GAP_INTERVALS = 3
# Sampling runs every minute per cluster: keep a few jobs to show the last runs and failures,
# not one row a minute in the job list.
METRICS_JOBS_KEPT = 5
# The key of `Cluster.info` that lists what the cluster cannot give, for its page.
UNAVAILABLE_KEY = "metrics_unavailable"

# The backends' words for what a cluster cannot give, in the user's language.
UNAVAILABLE_LABELS = {
    ganeti.VM_ACTIVITY_UNAVAILABLE: gettext_lazy(
        "CPU, disk and network activity of VMs (Ganeti's RAPI does not give it)"
    ),
    ganeti.LOAD_AVERAGE_UNAVAILABLE: gettext_lazy("load average (Ganeti does not give it)"),
    ganeti.MOND_UNAVAILABLE: gettext_lazy(
        "node CPU load (the cluster's monitoring daemon does not answer)"
    ),
    libvirt_sample.LOAD_AVERAGE_UNAVAILABLE: gettext_lazy(
        "load average (libvirt does not give it)"
    ),
    libvirt_sample.HOST_CPU_UNAVAILABLE: gettext_lazy(
        "host CPU use (a libvirt host does not give it)"
    ),
    libvirt_sample.HOST_MEMORY_UNAVAILABLE: gettext_lazy(
        "host memory use (a libvirt host does not give it)"
    ),
}

# VM counters and the metric each becomes (per second), with the rate past which it is junk.
VM_RATES = {
    "block_read_bytes": ("disk_read_bps", rates.MAX_BYTES_PER_S),
    "block_write_bytes": ("disk_write_bps", rates.MAX_BYTES_PER_S),
    "block_read_requests": ("disk_read_iops", rates.MAX_REQUESTS_PER_S),
    "block_write_requests": ("disk_write_iops", rates.MAX_REQUESTS_PER_S),
    "net_rx_bytes": ("net_rx_bps", rates.MAX_BYTES_PER_S),
    "net_tx_bytes": ("net_tx_bps", rates.MAX_BYTES_PER_S),
}
VM_COUNTERS = ("cpu_time_ns", *VM_RATES)
NODE_COUNTERS = ("cpu_busy_ns", "cpu_total_ns")
NODE_GAUGES = (
    "cpu_percent",
    "memory_used_mib",
    "memory_total_mib",
    "disk_used_mib",
    "disk_total_mib",
    "load1",
)


class MetricsFailed(Exception):
    """The cluster could not be sampled; the message says why."""


# --- queueing: once per cluster at a time, every METRICS_INTERVAL


def _redis():
    return django_rq.get_connection(QUEUE)


def _key(cluster_id: int, what: str) -> str:
    return f"ganetiweb:metrics:{cluster_id}:{what}"


# Replace a claim only if it is still the one that was read (two schedulers at once).
_REPLACE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2]) end"  # noqa: E501
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def due(cluster_id: int, interval: int) -> bool:
    """Whether the cluster's round is due: at most one every `interval` seconds."""
    return bool(_redis().set(_key(cluster_id, "round"), "1", nx=True, ex=interval))


def enqueue_metrics(cluster: Cluster, user=None) -> Job | None:
    """Queue a sampling unless one is queued or running, or the cluster is a student group's
    (clusters.jobs.syncable says why); return the new job, or None.

    The claim is a Redis key holding the job's id and when it was claimed, as the sync's is a
    column: taken over only when its job is neither queued nor running, well after it was
    made (a worker that died).
    """
    if is_group_cluster(cluster):
        return None
    job_id = uuid.uuid4()
    claim = f"{job_id} {time.time()}"
    connection = _redis()
    key = _key(cluster.pk, "claim")
    if not connection.set(key, claim, nx=True):
        current = connection.get(key)
        if current is None or not _stale(current.decode()):
            return None
        if not connection.eval(_REPLACE, 1, key, current, claim):
            return None
    with transaction.atomic():
        job = Job.objects.create(id=job_id, kind=METRICS, cluster=cluster, target=cluster.name)
        runner.enqueue(job)
    return job


def _stale(claim: str) -> bool:
    job_id, _space, claimed_at = claim.partition(" ")
    try:
        if time.time() - float(claimed_at) < STALE_CLAIM.total_seconds():
            return False  # its job may not be in Redis yet: enqueued on commit
    except ValueError:
        return True
    try:
        status = RQJob.fetch(job_id, connection=_redis()).get_status()
    except Exception:  # noqa: BLE001  (no such job in Redis: it ended long ago)
        return True
    return status not in PENDING


def release_claim(cluster_id: int, job_id) -> None:
    """End this job's claim on its cluster (and only this one's)."""
    connection = _redis()
    key = _key(cluster_id, "claim")
    current = connection.get(key)
    if current is not None and current.decode().split(" ")[0] == str(job_id):
        connection.eval(_RELEASE, 1, key, current)


# --- the job


def run_metrics(job: Job, progress) -> None:
    """Sample the cluster, record its points; always releases the claim."""
    try:
        cluster = Cluster.objects.get(pk=job.cluster_id)
        try:
            backend = backend_for(cluster)
            try:
                sample = backend.sample()
            finally:
                backend.close()
        except CLUSTER_ERRORS as exc:
            raise MetricsFailed(str(exc)) from exc
        points = points_of(cluster, sample)
        record(points)
        store_unavailable(cluster.pk, sample.unavailable)
    finally:
        release_claim(job.cluster_id, job.pk)
        runner.keep_latest(job, METRICS_JOBS_KEPT)
    progress.log(
        _("%(points)d points from %(nodes)d nodes and %(vms)d VMs.")
        % {"points": len(points), "nodes": len(sample.nodes), "vms": len(sample.vms)}
    )


def points_of(cluster: Cluster, sample: Sample) -> list[Point]:
    """The sample's points for the cluster's known VMs and nodes: gauges as they are, counters
    as rates against the previous reading, which this one replaces (in Redis)."""
    interval = settings.METRICS_INTERVAL
    max_gap = GAP_INTERVALS * interval
    connection = _redis()
    key = _key(cluster.pk, "previous")
    previous = rates.loads(connection.get(key)) or rates.Reading(at=0.0)
    current = rates.Reading(at=sample.at.timestamp())
    vms = {
        name: (pk, vcpus)
        for name, pk, vcpus in VirtualMachine.objects.filter(cluster=cluster).values_list(
            "name", "pk", "vcpus"
        )
    }
    nodes = dict(Node.objects.filter(cluster=cluster).values_list("name", "pk"))
    points: list[Point] = []

    def rates_of(subject: str, counters: rates.Counters) -> dict[str, float]:
        current.subjects[subject] = counters
        before = previous.subjects.get(subject)
        return rates.per_second(before, previous.at, counters, current.at, max_gap)

    def add(subject: str, metric: str, value: float | None) -> None:
        if value is not None:
            points.append(Point(subject=subject, metric=metric, at=sample.at, value=value))

    for vm in sample.vms:
        if vm.name not in vms:
            continue  # not in the inventory yet: the next sync brings it
        pk, vcpus = vms[vm.name]
        subject = f"vm:{pk}"
        per_s = rates_of(subject, _counters(vm, VM_COUNTERS, vm.run or vm.node))
        add(subject, "memory_used_mib", vm.memory_used_mib)
        add(subject, "cpu_percent", rates.cpu_percent(per_s.get("cpu_time_ns"), vm.vcpus or vcpus))
        for counter, (metric, maximum) in VM_RATES.items():
            add(subject, metric, rates.bounded(per_s.get(counter), maximum))
    for node in sample.nodes:
        if node.name not in nodes:
            continue
        subject = f"node:{nodes[node.name]}"
        per_s = rates_of(subject, _counters(node, NODE_COUNTERS, node.run or node.name))
        for metric in NODE_GAUGES:
            add(subject, metric, getattr(node, metric))
        if node.cpu_percent is None:
            add(
                subject,
                "cpu_percent",
                rates.share_percent(per_s.get("cpu_busy_ns"), per_s.get("cpu_total_ns")),
            )
    connection.set(key, rates.dumps(current), ex=max_gap + interval)
    return points


def _counters(sampled: VMSample | NodeSample, names: tuple[str, ...], run: str) -> rates.Counters:
    values = {name: getattr(sampled, name) for name in names}
    return rates.Counters(run=run, values={k: v for k, v in values.items() if v is not None})


def store_unavailable(cluster_id: int, unavailable: list[str]) -> None:
    """Keep what the cluster cannot give in `Cluster.info`, for its page (vms/sync.py keeps
    the key when it rewrites the info)."""
    with transaction.atomic():
        info = (
            Cluster.objects.select_for_update()
            .filter(pk=cluster_id)
            .values_list("info", flat=True)
            .first()
        )
        if info is None or info.get(UNAVAILABLE_KEY) == unavailable:
            return
        Cluster.objects.filter(pk=cluster_id).update(info={**info, UNAVAILABLE_KEY: unavailable})


def unavailable_labels(cluster: Cluster) -> list[str]:
    """What the cluster cannot give, in the user's language (for its page)."""
    return [
        str(UNAVAILABLE_LABELS.get(text, text)) for text in cluster.info.get(UNAVAILABLE_KEY, [])
    ]


registry.register(
    registry.JobType(
        kind=METRICS,
        label=gettext_lazy("sample metrics"),
        run=run_metrics,
        expected_errors=(MetricsFailed,),
        queue=QUEUE,
        timeout=TIMEOUT,
        check_manage=require_cluster_admin,
    )
)
