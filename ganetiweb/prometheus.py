"""The Prometheus export at /metrics: the pool as the database knows it, and the
application's own figures.

Everything is read when Prometheus scrapes, from the database and Redis, by one collector:
nothing is counted in a process's memory, so any number of web and worker processes export
the same figures without prometheus-client's multiprocess mode. A scrape is a fixed handful
of queries however large the pool (tests/test_prometheus.py counts them).

Labels are stable names, not database ids: `cluster` is the cluster's short name (slug),
`node` and `vm` the names the cluster uses. The sampled rates (CPU %, bytes/s) come from the
metric store's latest points (clusters/metrics/store.py) when it has them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db.models import Avg, Count, F
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from audit.models import AuditAction, AuditEntry
from clusters.choices import NodeRole
from clusters.metrics import names, store
from clusters.models import Cluster, Node
from jobs.models import Job, JobStatus
from vms.choices import ActualState
from vms.models import VirtualMachine

MiB = 1024 * 1024
# Jobs finished within this window give the duration figures.
DURATION_WINDOW = timedelta(hours=1)


def token_allows(header: str) -> bool:
    """Whether an Authorization header carries the METRICS_TOKEN (compared in constant time)."""
    token = settings.METRICS_TOKEN
    scheme, _sep, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(given, token)


class PoolCollector(Collector):
    """One scrape: clusters, nodes, VMs, queues and jobs."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._clusters(now)
        nodes = yield from self._nodes()
        vms = yield from self._vms()
        yield from self._sampled(names.NODE, names.NODE_METRICS, nodes, ["cluster", "node"], now)
        yield from self._sampled(names.VM, names.VM_METRICS, vms, ["cluster", "vm"], now)
        yield from self._queues()
        yield from self._jobs(now)
        yield self._console_sessions()

    def _clusters(self, now) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ganetiweb_cluster_up",
            "1 when the last sync of the cluster succeeded",
            labels=["cluster"],
        )
        age = GaugeMetricFamily(
            "ganetiweb_cluster_sync_age_seconds",
            "Seconds since the last successful sync",
            labels=["cluster"],
        )
        duration = GaugeMetricFamily(
            "ganetiweb_cluster_sync_duration_seconds",
            "How long the last sync took",
            labels=["cluster"],
        )
        rows = Cluster.objects.values_list(
            "slug", "last_sync_at", "last_sync_duration", "last_sync_error"
        )
        for slug, synced_at, seconds, error in rows:
            up.add_metric([slug], 0 if error or synced_at is None else 1)
            if synced_at is not None:
                age.add_metric([slug], (now - synced_at).total_seconds())
            if seconds is not None:
                duration.add_metric([slug], seconds)
        yield from (up, age, duration)

    def _nodes(self) -> Iterator[Metric]:
        labels = ["cluster", "node"]
        families = {
            "memory_total": GaugeMetricFamily(
                "ganetiweb_node_memory_total_bytes", "Node memory", labels=labels
            ),
            "memory_free": GaugeMetricFamily(
                "ganetiweb_node_memory_free_bytes", "Node memory free", labels=labels
            ),
            "disk_total": GaugeMetricFamily(
                "ganetiweb_node_disk_total_bytes", "Node disk for VMs", labels=labels
            ),
            "disk_free": GaugeMetricFamily(
                "ganetiweb_node_disk_free_bytes", "Node disk free for VMs", labels=labels
            ),
        }
        cpus = GaugeMetricFamily("ganetiweb_node_cpus", "Node CPUs", labels=labels)
        available = GaugeMetricFamily(
            "ganetiweb_node_available",
            "1 when the node takes VMs (not offline, drained or missing)",
            labels=labels,
        )
        rows = Node.objects.values_list(
            "pk", "cluster__slug", "name", "role", "missing", "cpus", *families
        )
        labels_of = {}
        for pk, cluster, name, role, missing, cpu_count, *sizes in rows:
            labels_of[names.subject(names.NODE, pk)] = [cluster, name]
            taking = not missing and role not in (NodeRole.OFFLINE, NodeRole.DRAINED)
            available.add_metric([cluster, name], 1 if taking else 0)
            if cpu_count is not None:
                cpus.add_metric([cluster, name], cpu_count)
            for family, size in zip(families.values(), sizes, strict=True):
                if size is not None:
                    family.add_metric([cluster, name], size * MiB)
        yield from (*families.values(), cpus, available)
        return labels_of

    def _vms(self) -> Iterator[Metric]:
        labels = ["cluster", "vm"]
        running = GaugeMetricFamily("ganetiweb_vm_running", "1 when the VM runs", labels=labels)
        memory = GaugeMetricFamily(
            "ganetiweb_vm_memory_bytes", "Memory given to the VM", labels=labels
        )
        vcpus = GaugeMetricFamily("ganetiweb_vm_vcpus", "vCPUs of the VM", labels=labels)
        rows = VirtualMachine.objects.filter(missing=False).values_list(
            "pk", "cluster__slug", "name", "actual_state", "memory", "vcpus"
        )
        labels_of = {}
        for pk, cluster, name, state, mib, count in rows:
            labels_of[names.subject(names.VM, pk)] = [cluster, name]
            running.add_metric([cluster, name], 1 if state == ActualState.RUNNING else 0)
            if mib is not None:
                memory.add_metric([cluster, name], mib * MiB)
            if count is not None:
                vcpus.add_metric([cluster, name], count)
        yield from (running, memory, vcpus)
        return labels_of

    def _sampled(self, kind, metrics, labels_of, labels, now) -> Iterator[Metric]:
        """The newest sampled value of each metric (clusters/metrics/store.py), if fresh:
        a VM that stopped being sampled drops out rather than showing its last rate."""
        fresh_since = now - timedelta(seconds=3 * settings.METRICS_INTERVAL)
        for metric in metrics.values():
            family = GaugeMetricFamily(
                f"ganetiweb_{kind}_{metric.name}", str(metric.label), labels=labels
            )
            for subject, point in store.latest(labels_of, metric.name).items():
                if point.at >= fresh_since:
                    family.add_metric(labels_of[subject], point.value)
            yield family

    def _queues(self) -> Iterator[Metric]:
        length = GaugeMetricFamily(
            "ganetiweb_queue_length", "Jobs waiting in each RQ queue", labels=["queue"]
        )
        for name in settings.RQ_QUEUES:
            length.add_metric([name], len(django_rq.get_queue(name)))
        yield length

    def _jobs(self, now) -> Iterator[Metric]:
        current = GaugeMetricFamily(
            "ganetiweb_jobs", "Jobs recorded, by kind and status", labels=["kind", "status"]
        )
        for kind, status, count in (
            Job.objects.order_by().values_list("kind", "status").annotate(count=Count("pk"))
        ):
            current.add_metric([kind, status], count)
        average = GaugeMetricFamily(
            "ganetiweb_job_duration_seconds_average",
            "Average run time of the jobs finished in the last hour, by kind and result",
            labels=["kind", "result"],
        )
        finished = GaugeMetricFamily(
            "ganetiweb_jobs_finished_last_hour",
            "Jobs finished in the last hour, by kind and result",
            labels=["kind", "result"],
        )
        recent = (
            Job.objects.order_by()
            .filter(
                finished_at__gte=now - DURATION_WINDOW,
                started_at__isnull=False,
                status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED],
            )
            .values_list("kind", "status")
            .annotate(count=Count("pk"), seconds=Avg(F("finished_at") - F("started_at")))
        )
        for kind, status, count, seconds in recent:
            finished.add_metric([kind, status], count)
            if seconds is not None:
                average.add_metric([kind, status], seconds.total_seconds())
        yield from (current, finished, average)

    def _console_sessions(self) -> Metric:
        sessions = GaugeMetricFamily(
            "ganetiweb_console_sessions_recorded", "Console sessions in the audit log"
        )
        sessions.add_metric(
            [], AuditEntry.objects.filter(action=AuditAction.CONSOLE_SESSION).count()
        )
        return sessions


def registry() -> CollectorRegistry:
    """A registry of its own: no process or platform collectors, whose figures would differ
    from one process to the next."""
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(PoolCollector())
    return collectors
