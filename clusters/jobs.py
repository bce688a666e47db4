"""Cluster work that runs in RQ workers: inventory sync and connection tests.

Web views only enqueue (after the transaction commits); the worker talks to the cluster.
"""

import uuid
from datetime import timedelta

import django_rq
from django.db import transaction
from django.utils import timezone
from rq.job import Job as RQJob
from rq.job import JobStatus

from clusters.backends.base import BackendError, CertificateMismatch
from clusters.models import Cluster
from clusters.services import backend_for
from clusters.sync import sync_cluster
from ganetiweb.crypto import CredentialsUnreadable

QUEUE = "default"
STALE_CLAIM = timedelta(minutes=2)
PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def _sync_pending(job_id: str) -> bool:
    queue = django_rq.get_queue(QUEUE)
    try:
        return RQJob.fetch(job_id, connection=queue.connection).get_status() in PENDING
    except Exception:  # noqa: BLE001  (no such job in Redis: it ended long ago)
        return False


def enqueue_sync(cluster: Cluster) -> str | None:
    """Queue a sync unless one is queued or running; return the new job id, or None."""
    job_id = f"sync-{cluster.pk}-{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    claim = {"sync_job_id": job_id, "sync_claimed_at": now}
    claimed = Cluster.objects.filter(pk=cluster.pk, sync_job_id="").update(**claim)
    if not claimed:
        # A claim whose job is neither queued nor running, well after it was made, was left
        # by a worker that died: take it over. (Right after a claim, its job may not be in
        # Redis yet: it is enqueued when the claiming transaction commits.)
        current = Cluster.objects.filter(pk=cluster.pk).values("sync_job_id", "sync_claimed_at")
        current = current.first()
        if current is None or _sync_pending(current["sync_job_id"]):
            return None
        claimed_at = current["sync_claimed_at"]
        if claimed_at is not None and now - claimed_at < STALE_CLAIM:
            return None
        claimed = Cluster.objects.filter(pk=cluster.pk, sync_job_id=current["sync_job_id"]).update(
            **claim
        )
        if not claimed:
            return None
    transaction.on_commit(
        lambda: django_rq.get_queue(QUEUE).enqueue(
            run_sync, cluster.pk, job_id=job_id, result_ttl=3600, failure_ttl=86400
        )
    )
    return job_id


def run_sync(cluster_id: int) -> dict:
    """Worker entry point for a sync; always releases the cluster's sync claim."""
    try:
        result = sync_cluster(cluster_id)
    finally:
        Cluster.objects.filter(pk=cluster_id).update(sync_job_id="")
    return {
        "created": result.created,
        "updated": result.updated,
        "missing": result.missing,
        "unchanged": result.unchanged,
        "error": result.error,
    }


def enqueue_connection_test(cluster: Cluster) -> None:
    Cluster.objects.filter(pk=cluster.pk).update(
        connection_test={"state": "queued", "at": timezone.now().isoformat()}
    )
    transaction.on_commit(
        lambda: django_rq.get_queue("high").enqueue(run_connection_test, cluster.pk)
    )


def run_connection_test(cluster_id: int) -> dict:
    """Reach the cluster with its saved settings and store what happened, for its page."""
    cluster = Cluster.objects.get(pk=cluster_id)
    outcome = {"at": timezone.now().isoformat()}
    update = {}
    try:
        backend = backend_for(cluster)
        try:
            report = backend.test_connection()
        finally:
            backend.close()
    except CertificateMismatch as exc:
        outcome.update(state="failed", message=str(exc), fingerprint=exc.fingerprint or "")
        if exc.fingerprint:
            update["seen_fingerprint"] = exc.fingerprint
    except (BackendError, CredentialsUnreadable) as exc:
        outcome.update(state="failed", message=str(exc))
    else:
        outcome.update(
            state="succeeded",
            cluster_name=report.cluster_name,
            software_version=report.software_version,
            node_count=report.node_count,
            fingerprint=report.certificate_fingerprint,
        )
    Cluster.objects.filter(pk=cluster_id).update(connection_test=outcome, **update)
    return outcome
