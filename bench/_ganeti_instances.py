"""Diskless instances on the real Ganeti test cluster (testbed/ganeti.py), and the baseline:
the same operations the application's jobs do, called directly on the backend.

Plain Python, no Django: the backend classes need no settings.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from clusters.backends.base import BackendError, GanetiConnection, Progress
from clusters.backends.ganeti import GanetiBackend
from testbed.ganeti import GanetiTestbed, RapiError, instance_body

MEMORY = 64  # MiB; the fake hypervisor reserves nothing, but Ganeti checks the node's memory


@contextlib.contextmanager
def diskless_instances(cluster: GanetiTestbed, count: int) -> Iterator[list[str]]:
    """Create ``count`` running diskless instances; remove them afterwards, even on failure."""
    prefix = f"bench-{secrets.token_hex(3)}"
    names = [f"{prefix}-{i}.gwtest.example" for i in range(count)]
    try:
        _wait_all(cluster, [cluster.rapi("POST", "/2/instances", _create_body(n)) for n in names])
        yield names
    finally:
        _remove(cluster, prefix)


def _create_body(name: str) -> dict:
    return instance_body(name, memory=MEMORY)


def _remove(cluster: GanetiTestbed, prefix: str) -> None:
    """Remove every instance named ``prefix-*``, including any a failed setup left behind."""
    removals = []
    for name in (item["id"] for item in cluster.rapi("GET", "/2/instances")):
        if name.startswith(prefix + "-"):
            with contextlib.suppress(RapiError):
                removals.append(cluster.rapi("DELETE", f"/2/instances/{name}"))
    _wait_all(cluster, removals)


def _wait_all(cluster: GanetiTestbed, job_ids: list) -> None:
    failed = []
    for job_id in job_ids:
        job = cluster.wait_for_job(job_id, timeout=300)
        if job["status"] != "success":
            failed.append(f"job {job_id}: {job['status']} {job.get('opresult')}")
    if failed:
        hint = ""
        if any("insufficient_resources" in failure for failure in failed):
            hint = " (other instances, e.g. of a test run, may be using the test cluster's vCPUs)"
        raise RuntimeError(f"Ganeti jobs failed{hint}: " + "; ".join(failed))


def backend(cluster: GanetiTestbed) -> GanetiBackend:
    """A backend on the test cluster, as a worker builds it: pinned, with the RAPI user."""
    return GanetiBackend(
        GanetiConnection(
            host=cluster.rapi_host,
            port=cluster.rapi_port,
            username=cluster.rapi_user,
            password=cluster.rapi_password,
            pinned_fingerprint=cluster.cert_sha256,
        )
    )


# --- the baseline


class _RemoteJob(Progress):
    """Remembers the Ganeti job id of the operation; ignores the rest."""

    job_id = ""

    def remote_job(self, job_id: str) -> None:
        self.job_id = job_id


@dataclass
class BaselineRun:
    """``jobs`` operations from ``threads`` threads: their wall time, each one's duration."""

    threads: int
    wall: float = 0.0
    durations: list[float] = field(default_factory=list)
    ganeti_jobs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def baseline(cluster: GanetiTestbed, names: list[str], jobs: int, threads: int) -> BaselineRun:
    """Hard-reboot the instances round-robin, ``jobs`` times in all, from ``threads`` threads.

    Each thread has its own backend (a requests session is not shared between threads) and
    takes the next operation as soon as its last one returned: a worker that never waits.
    """
    run = BaselineRun(threads)
    numbers = itertools.count()
    lock = threading.Lock()

    def work() -> None:
        client = backend(cluster)
        try:
            while (number := next(numbers)) < jobs:
                progress = _RemoteJob()
                start = time.monotonic()
                try:
                    client.reboot_vm(names[number % len(names)], progress, hard=True)
                except BackendError as exc:
                    error = str(exc)
                else:
                    error = ""
                seconds = time.monotonic() - start
                with lock:
                    run.durations.append(seconds)
                    run.ganeti_jobs.append(progress.job_id)
                    if error:
                        run.failures.append(error)
        finally:
            client.close()

    workers = [threading.Thread(target=work, name=f"baseline-{i}") for i in range(threads)]
    start = time.monotonic()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    run.wall = time.monotonic() - start
    return run


# --- Ganeti's own view of the jobs


@dataclass
class GanetiTimes:
    """Per job, from Ganeti's timestamps: waiting in its queue, and running."""

    queued: list[float] = field(default_factory=list)  # received_ts -> start_ts
    running: list[float] = field(default_factory=list)  # start_ts -> end_ts


def ganeti_times(cluster: GanetiTestbed, job_ids: list[str]) -> GanetiTimes:
    times = GanetiTimes()
    for job_id in job_ids:
        if not job_id:
            continue
        job = cluster.rapi("GET", f"/2/jobs/{job_id}")
        received, started, ended = (_seconds(job.get(k)) for k in _TIMESTAMPS)
        if None not in (received, started, ended):
            times.queued.append(started - received)
            times.running.append(ended - started)
    return times


_TIMESTAMPS = ("received_ts", "start_ts", "end_ts")


def _seconds(stamp: list | None) -> float | None:
    """Ganeti's [seconds, microseconds] as seconds."""
    return stamp[0] + stamp[1] / 1e6 if stamp else None
