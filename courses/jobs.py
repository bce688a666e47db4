"""Deployment check runs in RQ workers. The web only creates the run and enqueues it."""

import logging
import traceback

import django_rq
from django.db import transaction
from django.utils import timezone

from clusters.backends.base import BackendError
from clusters.models import Cluster
from clusters.services import backend_for
from courses import checks
from courses.choices import CheckRunStatus
from courses.models import CheckResult, CheckRun
from ganetiweb.crypto import CredentialsUnreadable

logger = logging.getLogger(__name__)
QUEUE = "default"
# Every check is a few reads, each with the backend's own timeout.
JOB_TIMEOUT = 600


def enqueue_check_run(run):
    transaction.on_commit(
        lambda: django_rq.get_queue(QUEUE).enqueue(
            run_checks,
            run.pk,
            job_id=f"checks-{run.pk}",
            job_timeout=JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=86400,
        )
    )


def run_checks(run_id):
    """Worker entry point: collect the evidence and store it; the run always ends."""
    claimed = CheckRun.objects.filter(pk=run_id, status=CheckRunStatus.QUEUED).update(
        status=CheckRunStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    run = CheckRun.objects.select_related("group__cluster").get(pk=run_id)
    status, error = CheckRunStatus.FINISHED, ""
    try:
        evidence = _collect(run.group.cluster)
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
    return status


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
