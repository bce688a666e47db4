"""The one job runner: VM and node operations, syncs, connection tests and deployment checks.

A service function creates a `Job` row and calls `enqueue(job)`, which hands it to RQ once the
transaction commits. A worker runs `run_job`: it claims the row (queued -> running), calls the
kind's `run` (jobs/registry.py) with a `JobProgress` that writes log lines and percentages
into the row, and records success, an expected failure in words, or a crash as a readable
error. A worker that dies mid-job is dealt with by the next one (jobs/recovery.py).
"""

import logging
import traceback

import django_rq
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from rq import get_current_job

from jobs import registry
from jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)


def enqueue(job: Job) -> None:
    """Send the job to a worker once the transaction that created its row commits."""
    job_type = registry.get(job.kind)
    transaction.on_commit(
        lambda: django_rq.get_queue(job_type.queue).enqueue(
            run_job,
            str(job.pk),
            job_id=str(job.pk),
            job_timeout=job_type.timeout,
            result_ttl=3600,
            failure_ttl=7 * 86400,
        )
    )


class JobProgress:
    """Writes what the work reports into the Job row, one small UPDATE at a time.

    It has the methods of `clusters.backends.base.Progress`, which the backends call."""

    def __init__(self, job_id):
        self.rows = Job.objects.filter(pk=job_id)

    def log(self, message: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        line = f"{stamp} {message}\n"
        self.rows.update(log=Concat(F("log"), Value(line)))

    def percent(self, value: int) -> None:
        self.rows.update(progress=max(0, min(100, int(value))))

    def remote_job(self, job_id: str) -> None:
        self.rows.update(remote_job_id=str(job_id))
        self.log(_("Cluster job %(id)s submitted.") % {"id": job_id})


def keep_latest(job: Job, kept: int) -> None:
    """Delete the older jobs of this job's kind on its cluster, keeping the newest `kept`
    (this one included): periodic jobs keep a short history, not one row a minute for ever."""
    if job.cluster_id is None:  # periodic jobs are per cluster; nothing to compare with
        return
    others = Job.objects.filter(cluster_id=job.cluster_id, kind=job.kind).exclude(pk=job.pk)
    old = others.order_by("-created_at").values_list("pk", flat=True)[kept - 1 :]
    Job.objects.filter(pk__in=list(old)).delete()


def worker_name() -> str:
    rq_job = get_current_job()
    return getattr(rq_job, "worker_name", None) or ""


def run_job(job_id: str) -> str:
    """Worker entry point: run one Job to its end, whatever happens."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), worker_name=worker_name()
    )
    if not claimed:
        return "not queued"  # canceled meanwhile, or already run
    job = Job.objects.select_related("cluster", "vm", "vm__primary_node", "node").get(pk=job_id)
    job_type = registry.get(job.kind)
    try:
        job_type.run(job, JobProgress(job.pk))
    except job_type.expected_errors as exc:
        return finish(job.pk, JobStatus.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001  (a crash must still end the job)
        logger.exception("Job %s crashed", job.pk)
        return finish(
            job.pk,
            JobStatus.FAILED,
            error=_("The operation stopped on an unexpected error (%(error)s).")
            % {"error": type(exc).__name__},
            traceback=traceback.format_exc(),
        )
    return finish(job.pk, JobStatus.SUCCEEDED)


def finish(job_id, status, error="", traceback=""):
    """Record the end, unless the job was meanwhile taken over: a worker declared dead (see
    jobs/recovery.py) whose process still ran must not overwrite its successor's result."""
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if traceback:
        fields["traceback"] = traceback
    if status == JobStatus.SUCCEEDED:
        fields["progress"] = 100
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, worker_name=worker_name()).update(
        **fields
    )
    return status


def cancel(job: Job, user) -> bool:
    """Cancel a job that has not started; a running one runs to its end. The person who asked
    may always cancel their own; others need what the kind asks (`check_manage`)."""
    job_type = registry.get(job.kind)
    if job.requested_by_id != user.pk and job_type.check_manage is not None:
        job_type.check_manage(user, job)
    canceled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELED, error=_("Canceled before it started.")
    )
    return bool(canceled)


def retry(job: Job, user) -> Job:
    """Ask for a failed or canceled job's work again, through its kind's normal path."""
    job_type = registry.get(job.kind)
    if job_type.retry is None:
        raise registry.JobRefused(_("This kind of job cannot be retried."))
    return job_type.retry(job, user)
