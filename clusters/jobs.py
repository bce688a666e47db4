"""Cluster work that runs in RQ workers, through the one runner (jobs/runner.py): the
connection test, and queueing inventory syncs.

Web views only enqueue (after the transaction commits); the worker talks to the cluster. The
sync itself writes VMs, so it is declared in vms/jobs.py under the kind `SYNC`; clusters/ only
queues it, guarded by the cluster's claim so that one sync per cluster is queued at a time.
"""

import uuid
from datetime import timedelta

import django_rq
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rq.job import Job as RQJob
from rq.job import JobStatus as RQJobStatus

from access import permissions
from clusters.backends.base import BackendError, CertificateMismatch
from clusters.crypto import CredentialsUnreadable
from clusters.models import Cluster
from clusters.services import backend_for
from jobs import registry, runner
from jobs.models import Job

SYNC = "sync"
TEST_CONNECTION = "test_connection"
STALE_CLAIM = timedelta(minutes=2)
PENDING = {RQJobStatus.QUEUED, RQJobStatus.STARTED, RQJobStatus.DEFERRED, RQJobStatus.SCHEDULED}


def _sync_pending(job_id: str) -> bool:
    queue = django_rq.get_queue(registry.get(SYNC).queue)
    try:
        return RQJob.fetch(job_id, connection=queue.connection).get_status() in PENDING
    except Exception:  # noqa: BLE001  (no such job in Redis: it ended long ago)
        return False


def syncable(clusters: QuerySet[Cluster]) -> QuerySet[Cluster]:
    """The clusters an inventory sync may reach: every one but a student group's.

    A group's cluster (courses.StudentGroup.cluster, reverse name `student_group`) is an
    address that students typed. The worker reaches it only for the group's deployment checks
    (courses/jobs.py), on their own queue and with their own deadline; a sync would make a
    `default` worker connect wherever students say, again and again, for as long as a slow
    answer lasts. courses/ sits above clusters/ (and vms/) and may not be imported here, so
    the relation is named through the ORM.
    """
    return clusters.filter(student_group__isnull=True)


def is_group_cluster(cluster: Cluster) -> bool:
    return not syncable(Cluster.objects.filter(pk=cluster.pk)).exists()


def enqueue_sync(cluster: Cluster, user=None) -> Job | None:
    """Queue a sync unless one is queued or running, or the cluster is a student group's
    (see `syncable`); return the new job, or None."""
    if is_group_cluster(cluster):
        return None
    job_id = uuid.uuid4()
    now = timezone.now()
    claim = {"sync_job_id": str(job_id), "sync_claimed_at": now}
    with transaction.atomic():
        claimed = Cluster.objects.filter(pk=cluster.pk, sync_job_id="").update(**claim)
        if not claimed:
            # A claim whose job is neither queued nor running, well after it was made, was
            # left by a worker that died: take it over. (Right after a claim, its job may not
            # be in Redis yet: it is enqueued when the claiming transaction commits.)
            current = Cluster.objects.filter(pk=cluster.pk)
            current = current.values("sync_job_id", "sync_claimed_at").first()
            if current is None or _sync_pending(current["sync_job_id"]):
                return None
            claimed_at = current["sync_claimed_at"]
            if claimed_at is not None and now - claimed_at < STALE_CLAIM:
                return None
            claimed = Cluster.objects.filter(
                pk=cluster.pk, sync_job_id=current["sync_job_id"]
            ).update(**claim)
            if not claimed:
                return None
        job = Job.objects.create(
            id=job_id, kind=SYNC, cluster=cluster, target=cluster.name, requested_by=user
        )
        runner.enqueue(job)
    return job


def release_sync_claim(cluster_id: int, job_id) -> None:
    """End this sync's claim on its cluster (and only this one's)."""
    Cluster.objects.filter(pk=cluster_id, sync_job_id=str(job_id)).update(sync_job_id="")


def enqueue_connection_test(cluster: Cluster, user=None) -> Job:
    Cluster.objects.filter(pk=cluster.pk).update(
        connection_test={"state": "queued", "at": timezone.now().isoformat()}
    )
    job = Job.objects.create(
        kind=TEST_CONNECTION, cluster=cluster, target=cluster.name, requested_by=user
    )
    runner.enqueue(job)
    return job


def run_connection_test(job: Job, progress) -> None:
    """Reach the cluster with its saved settings and store what happened, for its page."""
    cluster = Cluster.objects.get(pk=job.cluster_id)
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
    Cluster.objects.filter(pk=job.cluster_id).update(connection_test=outcome, **update)
    progress.log(outcome.get("message") or _("Connected."))


def require_cluster_admin(user, job: Job) -> None:
    """Who may cancel or retry a cluster-wide job: the cluster's administrators."""
    permissions.require(user, job.cluster, "admin")


registry.register(
    registry.JobType(
        kind=TEST_CONNECTION,
        label=_("test connection"),
        run=run_connection_test,
        queue="high",
        timeout=600,
        check_manage=require_cluster_admin,
    )
)
