"""Deployment check runs, as jobs of the one runner (jobs/runner.py).

The web creates the `CheckRun` (the evidence record) and a `Job` (the execution record) and
enqueues the job; the worker collects the evidence into the run. The run always ends: a crash
fails it with a readable item, and a worker that died mid-run has its run failed by the next
worker (`abandoned`).

A group's cluster is whatever address its students typed, and whatever answers there may
answer slowly on purpose. So the checks run on a queue of their own, `coursework`, never on
the queues of VM operations and syncs, and a whole run has a deadline
(`COURSEWORK_CHECK_DEADLINE`, courses/limits.py): the RQ job timeout, which stops the run
wherever it is (each request to the cluster also has its own deadline, in the backend).
"""

import logging
import traceback

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rq.timeouts import JobTimeoutException

from clusters.backends.base import BackendError
from clusters.crypto import CredentialsUnreadable
from clusters.models import Cluster
from clusters.services import backend_for
from courses import checks
from courses.choices import CheckRunStatus
from courses.limits import limit
from courses.models import CheckResult, CheckRun
from jobs import registry, runner
from jobs.models import Job

logger = logging.getLogger(__name__)
DEPLOYMENT_CHECKS = "deployment_checks"
QUEUE = "coursework"


def check_deadline() -> int:
    """Seconds a whole check run may take (the setting, as now configured)."""
    return limit("COURSEWORK_CHECK_DEADLINE")


def enqueue_check_run(run: CheckRun) -> Job:
    job = Job.objects.create(
        kind=DEPLOYMENT_CHECKS,
        cluster=run.group.cluster,
        target=str(run.group),
        params={"run": run.pk},
        requested_by=run.requested_by,
    )
    CheckRun.objects.filter(pk=run.pk).update(job=job)
    runner.enqueue(job)
    return job


class ChecksCrashed(Exception):
    """A check stopped on an unexpected error; the run records it as evidence."""


def run_checks(job: Job, progress) -> None:
    """Worker side: collect the evidence and store it; the run always ends."""
    run_id = job.params["run"]
    claimed = CheckRun.objects.filter(pk=run_id, status=CheckRunStatus.QUEUED).update(
        status=CheckRunStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        progress.log(gettext("The check run was no longer queued."))
        return
    run = CheckRun.objects.select_related("group__cluster").get(pk=run_id)
    status, error = CheckRunStatus.FINISHED, ""
    try:
        evidence = _collect(run.group.cluster)
    except JobTimeoutException:
        # RQ's timeout for this job (the deadline) interrupted whatever request was running.
        seconds = registry.get(DEPLOYMENT_CHECKS).timeout
        status = CheckRunStatus.FAILED
        error = f"The checks took longer than {seconds} s and were stopped."
        evidence = checks.unreachable("deadline", {"seconds": seconds})
    except Exception as exc:  # noqa: BLE001  (a crash must still end the run)
        logger.exception("Check run %s crashed", run_id)
        status = CheckRunStatus.FAILED
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        evidence = checks.unreachable("check_error", {"error": type(exc).__name__})
    CheckResult.objects.bulk_create(
        CheckResult(
            run=run,
            name=item.name,
            passed=item.passed,
            message=item.message,
            params=item.params,
            checked_at=item.checked_at,
            order=order,
        )
        for order, item in enumerate(evidence)
    )
    CheckRun.objects.filter(pk=run_id).update(
        status=status, finished_at=timezone.now(), error=error
    )
    if status == CheckRunStatus.FAILED:
        raise ChecksCrashed(error.splitlines()[0])


def _collect(cluster):
    if cluster is None:
        return checks.unreachable("no_cluster")
    try:
        backend = backend_for(cluster)
    except (BackendError, CredentialsUnreadable) as exc:
        return checks.unreachable("unreachable", {"error": str(exc)})
    try:
        evidence = checks.collect(
            backend, address=f"{cluster.rapi_host}:{cluster.rapi_port}", user=cluster.rapi_user
        )
    finally:
        backend.close()
    fingerprint = evidence[0].params.get("fingerprint") if not evidence[0].passed else None
    if fingerprint:
        # Shown on the group's page, where a member confirms it (pin on first contact).
        Cluster.objects.filter(pk=cluster.pk).update(seen_fingerprint=fingerprint)
    return evidence


def _abandoned(job: Job) -> None:
    """The worker died mid-run: end the run too, so the group may run the checks again."""
    CheckRun.objects.filter(
        pk=job.params.get("run"), status__in=[CheckRunStatus.QUEUED, CheckRunStatus.RUNNING]
    ).update(status=CheckRunStatus.FAILED, finished_at=timezone.now(), error="lost by its worker")


registry.register(
    registry.JobType(
        kind=DEPLOYMENT_CHECKS,
        label=_("deployment checks"),
        run=run_checks,
        expected_errors=(ChecksCrashed,),
        queue=QUEUE,
        timeout=check_deadline(),
        abandoned=_abandoned,
    )
)
