"""Time ``sync_cluster`` next to its own fetch, for one cluster of each kind.

Imported only after ``django.setup()``: it uses the models.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import pstats
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from _ganeti_rapi import RapiData, serve
from _libvirt_node import TestDriverHost
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.choices import ClusterKind
from clusters.models import Cluster
from vms.sync import fetch, sync_cluster

RAPI_USER = "bench"
RAPI_PASSWORD = secrets.token_urlsafe(16)
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Subject:
    """A cluster to sync: the settings of its Cluster rows, and a way to change its state."""

    backend: str
    settings: dict
    # change(fraction) starts or stops that fraction of the VMs; returns how many it changed.
    change: Callable[[float], int]
    cluster_ids: list[int] = field(default_factory=list)

    def new_cluster(self) -> Cluster:
        """A Cluster row with a name of its own, so that a given database may hold others."""
        name = f"bench-{self.backend}-{secrets.token_hex(4)}"
        cluster = Cluster.objects.create(name=name, slug=name, **self.settings)
        self.cluster_ids.append(cluster.pk)
        return cluster

    def delete_clusters(self) -> None:
        """Delete the rows made (with their nodes and VMs): a given database is not ours."""
        Cluster.objects.filter(pk__in=self.cluster_ids).delete()


@dataclass
class SyncRun:
    """One timed ``sync_cluster``: its duration, VM rows written, and write statements."""

    seconds: float
    written: int
    writes: list[str] = field(default_factory=list)

    @property
    def inventory_writes(self) -> list[str]:
        """Writes other than the sync's own bookkeeping (last_sync_at on the cluster row)."""
        return [sql for sql in self.writes if "last_sync_at" not in sql]


@dataclass
class Figures:
    backend: str
    vm_count: int
    fetch: float
    full: SyncRun
    again: SyncRun
    changed: SyncRun | None = None
    flipped: int = 0


def measure(subject: Subject, repeat: int, fraction: float) -> Figures:
    """(a) fetch+parse alone, (b) a full sync, (c) a sync with no change, (d) after a change.

    (a) is ``vms.sync.fetch``: the backend's ``fetch_inventory()`` and nothing else.
    """
    cluster = subject.new_cluster()
    fetch(cluster)  # warm up: first-use imports, the libvirt event loop
    seconds, inventory = best_of(repeat, lambda: fetch(cluster))
    full = timed_sync(cluster.pk)
    again = min((timed_sync(cluster.pk, capture=True) for _ in range(repeat)), key=_seconds)
    figures = Figures(subject.backend, len(inventory.vms), seconds, full, again)
    if fraction:
        figures.flipped = subject.change(fraction)
        figures.changed = timed_sync(cluster.pk, capture=True)
    return figures


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    """The shortest of ``repeat`` runs: the others were disturbed by something else."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def timed_sync(cluster_id: int, capture: bool = False) -> SyncRun:
    """Run one sync; with ``capture``, also record its INSERT/UPDATE/DELETE statements.

    Capturing formats every statement's SQL, which costs seconds for a full sync's bulk
    inserts, so the full sync runs without it.
    """
    queries = CaptureQueriesContext(connection) if capture else contextlib.nullcontext()
    gc.collect()
    with queries:
        start = time.perf_counter()
        result = sync_cluster(cluster_id)
        seconds = time.perf_counter() - start
    if result.error:
        raise RuntimeError(f"the sync failed: {result.error}")
    captured = queries.captured_queries if capture else []
    writes = [query["sql"] for query in captured if query["sql"].lstrip().startswith(WRITES)]
    return SyncRun(seconds, result.written, writes)


def profile(subject: Subject, lines: int = 20) -> None:
    """Print where a full sync (into a new cluster row) and a no-change sync spend their time."""
    cluster = subject.new_cluster()
    for title in ("full sync", "no-change sync"):
        print(f"\n--- {subject.backend}: {title} under cProfile, by cumulative time")
        profiler = cProfile.Profile()
        profiler.runcall(sync_cluster, cluster.pk)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)


def _seconds(run: SyncRun) -> float:
    return run.seconds


def keep_out_of_gc() -> None:
    """Hide the objects alive now (the fake cluster's data) from the garbage collector.

    A worker holds no such data; left visible, its million objects would make every full
    collection during the measured code slower, and the figures too.
    """
    gc.collect()
    gc.freeze()


# --- the clusters


@contextlib.contextmanager
def ganeti_subject(nodes: int, instances: int, workdir: Path) -> Iterator[Subject]:
    """A Ganeti cluster: a FakeRapi on loopback, trusted by its pinned fingerprint."""
    data = RapiData(nodes, instances)
    server, pin = serve(data.answers(), workdir, RAPI_USER, RAPI_PASSWORD)
    keep_out_of_gc()

    def change(fraction: float) -> int:
        flipped = data.flip_states(fraction)
        server.answers = data.answers()
        keep_out_of_gc()
        return flipped

    settings = {
        "kind": ClusterKind.GANETI,
        "rapi_host": "127.0.0.1",
        "rapi_port": server.port,
        "rapi_user": RAPI_USER,
        "rapi_password": RAPI_PASSWORD,
        "pinned_fingerprint": pin,
        "on_this_machine": True,  # the fake RAPI listens on loopback
    }
    subject = Subject("ganeti", settings, change)
    try:
        yield subject
    finally:
        subject.delete_clusters()
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def libvirt_subject(domains: int, workdir: Path) -> Iterator[Subject]:
    """A libvirt host: libvirt's test driver reading a generated file."""
    host = TestDriverHost(workdir / "test-node.xml", domains)
    # test:///PATH reads a file, which a cluster's URI may name only where this says so.
    django_settings.LIBVIRT_TEST_DRIVER = True
    settings = {"kind": ClusterKind.LIBVIRT, "libvirt_uris": host.uri, "on_this_machine": True}
    subject = Subject("libvirt", settings, host.flip_states)
    try:
        yield subject
    finally:
        subject.delete_clusters()
