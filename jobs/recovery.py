"""Jobs left 'running' by a worker that died are ended, or followed again, by the next worker.

A worker killed mid-job cannot record the end of its job. The next worker to start looks for
running jobs whose worker is gone: a job that had submitted a cluster job (Ganeti) is queued
again to follow that cluster job to its real end; any other is marked failed with that reason.
"""

import importlib
import os
import socket
from datetime import UTC, timedelta

import django_rq
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _
from rq import Worker
from rq.worker import BaseWorker

from jobs import registry
from jobs.models import Job, JobStatus
from jobs.runner import JobProgress, run_job

# A worker on another machine that has not sent a heartbeat for this long is taken for dead.
SILENCE = timedelta(minutes=3)


def _alive(worker: BaseWorker) -> bool:
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    heartbeat = worker.last_heartbeat
    if heartbeat is None:
        return False
    if heartbeat.tzinfo is None:  # RQ keeps UTC without a zone
        heartbeat = heartbeat.replace(tzinfo=UTC)
    return timezone.now() - heartbeat < SILENCE


def live_worker_names(connection) -> set[str]:
    return {w.name for w in Worker.all(connection=connection) if _alive(w)}


def recover_abandoned_jobs(connection, own_name: str = "") -> int:
    """End or resume the running jobs whose worker is gone; return how many."""
    live = live_worker_names(connection) - {own_name}
    recovered = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING).exclude(worker_name__in=live):
        recovered += _recover(job)
    return recovered


def _recover(job: Job) -> int:
    progress = JobProgress(job.pk)
    if job.remote_job_id:
        requeued = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, worker_name=""
        )
        if requeued:
            progress.log(
                _("The worker running this job stopped; following cluster job %(id)s to its end.")
                % {"id": job.remote_job_id}
            )
            django_rq.get_queue(registry.get(job.kind).queue).enqueue(
                run_job, str(job.pk), job_id=f"{job.pk}-resumed-{timezone.now():%H%M%S}"
            )
        return requeued
    ended = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=_(
            "The worker running this job stopped before the job ended (it was killed or "
            "crashed). Check the VM's state before trying again."
        ),
    )
    abandoned = registry.get(job.kind).abandoned
    if ended and abandoned is not None:
        abandoned(job)
    return ended


class RecoveringWorker(Worker):
    """An RQ worker that first ends or resumes the jobs of workers that died."""

    def work(self, *args, **kwargs):
        # What the jobs run, imported once here rather than by every work horse forked from
        # this process (settings.JOB_PRELOAD_MODULES says why).
        for module in settings.JOB_PRELOAD_MODULES:
            importlib.import_module(module)
        recover_abandoned_jobs(self.connection, own_name=self.name)
        # The work horses are forked from this process: they must not share its connection.
        connections.close_all()
        return super().work(*args, **kwargs)
