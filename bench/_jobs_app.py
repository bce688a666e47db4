"""The application's path for VM operations: request, Redis queue, RQ worker, Job row.

Imported only after ``django.setup()``: it uses the models.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis
from django.contrib.auth import get_user_model
from rq import Worker

from clusters.choices import CertificateTrust, ClusterKind
from clusters.models import Cluster
from jobs.models import Job, JobStatus
from testbed._process import die_with_parent, stop_process, tail
from testbed.ganeti import GanetiTestbed
from vms.models import VirtualMachine
from vms.operations import JobKind
from vms.services import request_vm_operation
from vms.sync import sync_cluster

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60
POLL = 0.02  # seconds between the driver's looks at the Job rows
STALL_TIMEOUT = 120  # no job finished for this long: something is stuck
FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


@contextlib.contextmanager
def registered_cluster(cluster: GanetiTestbed, names: list[str]) -> Iterator[list]:
    """A Cluster row for the test cluster, synced; yields the VM rows of ``names``.

    Removes the rows it made afterwards (with their VMs and jobs), and the user.
    """
    slug = f"bench-jobs-{secrets.token_hex(4)}"
    row = Cluster.objects.create(
        name=slug,
        slug=slug,
        kind=ClusterKind.GANETI,
        rapi_host=cluster.rapi_host,
        rapi_port=cluster.rapi_port,
        rapi_user=cluster.rapi_user,
        rapi_password=cluster.rapi_password,
        certificate_trust=CertificateTrust.PINNED,
        pinned_fingerprint=cluster.cert_sha256,
    )
    try:
        result = sync_cluster(row.pk)
        if result.error:
            raise RuntimeError(f"the sync of the test cluster failed: {result.error}")
        vms = list(VirtualMachine.objects.filter(cluster=row, name__in=names).order_by("name"))
        if len(vms) != len(names):
            raise RuntimeError(f"the sync found {len(vms)} of the {len(names)} instances")
        yield vms
    finally:
        row.delete()


@contextlib.contextmanager
def bench_user(vms) -> Iterator[object]:
    """A plain user who may power the benchmark's VMs, as a VM's user asks for a reboot."""
    from guardian.shortcuts import assign_perm

    account = get_user_model().objects.create_user(f"bench-{secrets.token_hex(4)}")
    for vm in vms:
        assign_perm("power", account, vm)
    try:
        yield account
    finally:
        account.delete()


@contextlib.contextmanager
def rq_workers(count: int, workdir: Path) -> Iterator[list[subprocess.Popen]]:
    """``count`` real ``manage.py rqworker default`` processes, as in production.

    They get this process's environment, which holds every setting (DATABASE_URL, REDIS_URL,
    GANETIWEB_DATA_DIR, SECRET_KEY, CREDENTIALS_KEYS). Yields once all are registered in Redis.
    """
    prefix = f"bench-{secrets.token_hex(3)}"
    processes, logs = [], []
    try:
        for number in range(1, count + 1):
            log_path = workdir / f"worker-{number}.log"
            logs.append(log_path)
            with open(log_path, "ab") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "rqworker", "default"]
                        + ["--name", f"{prefix}-{number}"],
                        cwd=REPO_ROOT,
                        env=dict(os.environ),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=die_with_parent(),
                    )
                )
        _wait_for_workers(processes, logs, prefix)
        yield processes
    finally:
        for process in processes:
            stop_process(process)


def _wait_for_workers(processes: list[subprocess.Popen], logs: list[Path], prefix: str) -> None:
    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            names = {w.name for w in Worker.all(connection=connection)}
            if sum(name.startswith(prefix) for name in names) == len(processes):
                return
            for process, log in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"an RQ worker exited at start; its log:\n{tail(log)}")
            time.sleep(0.1)
    finally:
        connection.close()
    raise RuntimeError(f"the RQ workers did not register within {WORKER_START_TIMEOUT} s")


# --- driving the requests


@dataclass
class JobFigures:
    """One finished Job row's timestamps (the database's own), and how it ended."""

    created: datetime
    started: datetime | None
    finished: datetime | None
    worker: str
    status: str
    error: str
    remote_job: str


@dataclass
class AppRun:
    workers: int
    in_flight: int
    wall: float = 0.0
    jobs: list[JobFigures] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def drive(vms: list, jobs: int, requester, workers: int) -> AppRun:
    """Request ``jobs`` hard reboots through ``request_vm_operation``, one VM at a time each.

    Every VM has one reboot queued or running at any moment (the service refuses a second), so
    ``len(vms)`` jobs are in flight: with more VMs than workers the queue never runs dry. When
    a job ends, its VM gets the next reboot. The wall time runs from the first request to the
    moment the driver sees the last job ended.
    """
    run = AppRun(workers, min(len(vms), jobs))
    outstanding: dict = {}  # Job pk -> VM
    idle = list(vms[:jobs])  # VMs with no job queued or running
    requested = 0
    ids = []

    def request(vm) -> None:
        """Queue a reboot of ``vm``; a refused request counts as a failed job."""
        nonlocal requested
        requested += 1
        try:
            job = request_vm_operation(vm, JobKind.REBOOT, requester, hard=True)
        except Exception as exc:  # noqa: BLE001  (reported with the figures)
            run.refused.append(f"{vm.name}: {type(exc).__name__}: {exc}")
            idle.append(vm)  # asked again at the next look
            return
        outstanding[job.pk] = vm
        ids.append(job.pk)

    start = last_progress = time.monotonic()
    while idle or outstanding:
        ready, idle = idle, []
        for vm in ready:
            if requested < jobs:
                request(vm)  # a refused one is back in idle, for the next look
        if requested >= jobs:
            idle.clear()
        done = list(
            Job.objects.filter(pk__in=list(outstanding), status__in=FINAL).values_list(
                "pk", flat=True
            )
        )
        idle += [outstanding.pop(pk) for pk in done]
        if done:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_TIMEOUT:
            raise RuntimeError(f"no job ended for {STALL_TIMEOUT} s; see the worker logs")
        else:
            time.sleep(POLL)
    run.wall = time.monotonic() - start
    run.jobs = [
        JobFigures(*row)
        for row in Job.objects.filter(pk__in=ids).values_list(
            "created_at", "started_at", "finished_at", "worker_name", "status", "error",
            "remote_job_id",
        )
    ]  # fmt: skip
    return run


def enqueue_to_start(run: AppRun) -> list[float]:
    """Job.created_at -> Job.started_at: the wait in the queue plus the worker's pickup."""
    return [(j.started - j.created).total_seconds() for j in run.jobs if j.started]


def in_worker(run: AppRun) -> list[float]:
    """Job.started_at -> Job.finished_at: the operation as the worker runs it."""
    return [(j.finished - j.started).total_seconds() for j in run.jobs if j.started and j.finished]


def request_to_end(run: AppRun) -> list[float]:
    """Job.created_at -> Job.finished_at: what the user waits for."""
    return [(j.finished - j.created).total_seconds() for j in run.jobs if j.finished]


def worker_gaps(run: AppRun) -> list[float]:
    """Per worker, from the end of its last job (or the new job's request, if later) to the
    start of its next: what a worker spends between two operations. It includes the last
    job's read-back of the VM (after ``finished_at``), the work-horse fork, the claim."""
    gaps = []
    by_worker: dict[str, list[JobFigures]] = {}
    for job in run.jobs:
        if job.started and job.finished:
            by_worker.setdefault(job.worker, []).append(job)
    for jobs in by_worker.values():
        jobs.sort(key=lambda j: j.started)
        for before, after in zip(jobs, jobs[1:], strict=False):
            free = max(before.finished, after.created)
            gaps.append((after.started - free).total_seconds())
    return gaps


def failures(run: AppRun) -> list[str]:
    failed = [f"{j.status}: {j.error}" for j in run.jobs if j.status != JobStatus.SUCCEEDED]
    return run.refused + failed
