"""VM and node operations as RQ jobs: one Job row per operation, one runner for them all.

A view (or the API) calls a function in vms/services.py, which validates, creates the Job row
and enqueues it here after the transaction commits. The worker runs `run_job`: it marks the
start, calls the backend, copies progress and log lines into the row, records success or a
readable failure, and refreshes the inventory row of the VM it touched.
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

from clusters.backends.base import BackendError, NotFound, Progress
from clusters.services import backend_for
from ganetiweb.crypto import CredentialsUnreadable
from vms import operations
from vms.choices import JobStatus
from vms.models import Job

logger = logging.getLogger(__name__)
QUEUE = "default"
# Long enough for a Ganeti job that installs an OS or migrates a large VM.
JOB_TIMEOUT = 3 * 3600


def enqueue(job: Job) -> None:
    """Send the job to a worker once the transaction that created its row commits."""
    transaction.on_commit(
        lambda: django_rq.get_queue(QUEUE).enqueue(
            run_job,
            str(job.pk),
            job_id=str(job.pk),
            job_timeout=JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=7 * 86400,
        )
    )


class JobProgress(Progress):
    """Writes what the backend reports into the Job row, one small UPDATE at a time."""

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


def _worker_name():
    rq_job = get_current_job()
    return getattr(rq_job, "worker_name", None) or ""


def run_job(job_id: str) -> str:
    """Worker entry point: run one Job to its end, whatever happens."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), worker_name=_worker_name()
    )
    if not claimed:
        return "not queued"  # canceled meanwhile, or already run
    job = Job.objects.select_related("cluster", "vm", "vm__primary_node", "node").get(pk=job_id)
    progress = JobProgress(job.pk)
    try:
        backend = backend_for(job.cluster)
    except CredentialsUnreadable as exc:
        return finish(job.pk, JobStatus.FAILED, error=str(exc))
    try:
        operations.run(job, backend, progress)
    except (BackendError, CredentialsUnreadable) as exc:
        status = finish(job.pk, JobStatus.FAILED, error=str(exc))
    except Exception as exc:  # noqa: BLE001  (a crash must still end the job)
        logger.exception("Job %s crashed", job.pk)
        status = finish(
            job.pk,
            JobStatus.FAILED,
            error=_("The operation stopped on an unexpected error (%(error)s).")
            % {"error": type(exc).__name__},
            traceback=traceback.format_exc(),
        )
    else:
        status = finish(job.pk, JobStatus.SUCCEEDED)
    finally:
        refresh_after(job, backend, progress)
        backend.close()
    return status


def finish(job_id, status, error="", traceback=""):
    """Record the end, unless the job was meanwhile taken over: a worker declared dead (see
    vms/recovery.py) whose process still ran must not overwrite its successor's result."""
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if traceback:
        fields["traceback"] = traceback
    if status == JobStatus.SUCCEEDED:
        fields["progress"] = 100
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, worker_name=_worker_name()).update(
        **fields
    )
    return status


def refresh_after(job, backend, progress):
    """Read the touched VM back from the cluster so its page shows the new state at once."""
    try:
        operations.refresh(job, backend)
    except NotFound:
        pass  # deleted, or never created: operations.refresh handled the row
    except (BackendError, CredentialsUnreadable) as exc:
        progress.log(_("Could not read the VM back from the cluster: %(error)s") % {"error": exc})
