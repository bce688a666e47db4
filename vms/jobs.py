"""The VM side of the job runner: how each declared operation runs in a worker, how the
inventory follows it, and the inventory sync (it writes VMs, so it lives here).

Every operation of vms/operations.py becomes a job kind (jobs/registry.py) when declared.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clusters.backends.base import BackendError, NotFound
from clusters.crypto import CredentialsUnreadable
from clusters.jobs import SYNC, enqueue_sync, release_sync_claim, require_cluster_admin
from clusters.services import backend_for
from jobs import registry, runner
from jobs.models import Job
from vms import operations, services
from vms.alerts import check_alerts
from vms.models import VirtualMachine
from vms.sync import store_vm, sync_cluster

# What a worker may meet talking to a cluster: failures in words, not crashes.
CLUSTER_ERRORS = (BackendError, CredentialsUnreadable)


def run_operation(job: Job, progress) -> None:
    """Worker side of every operation: the backend call, then the read-back, both with one
    backend; a failure still reads the VM back, so its page shows where it stands."""
    operation = operations.get(job.kind)
    progress.percent(0)
    backend = backend_for(job.cluster)
    succeeded = False
    try:
        if job.remote_job_id:
            # A worker died while following this cluster job: follow the same job to its end.
            backend.follow_remote_job(job.remote_job_id, progress)
        else:
            operation.call(job, backend, progress)
        succeeded = True
    finally:
        try:
            read_back(job, operation, backend, succeeded)
        except NotFound:
            pass  # deleted, or never created: read_back handled the row
        except CLUSTER_ERRORS as exc:
            progress.log(
                _("Could not read the VM back from the cluster: %(error)s") % {"error": exc}
            )
        finally:
            backend.close()


def read_back(job: Job, operation: operations.Operation, backend, succeeded: bool) -> None:
    """Bring the database in line with what the operation did on the cluster."""
    if operation.read_back == operations.SYNC_CLUSTER:
        enqueue_sync(job.cluster)  # the whole node's VMs moved: read them all
        return
    if operation.read_back == operations.READ_CREATED:
        if succeeded:
            spec = operations.spec_from_params(job.params)
            vm = store_vm(job.cluster, backend.read_vm(spec.name, uri=spec.primary_uri))
            owner = job.params.get("owner", {})
            VirtualMachine.objects.filter(pk=vm.pk).update(
                owner_user_id=owner.get("user"), owner_group_id=owner.get("group")
            )
            Job.objects.filter(pk=job.pk).update(vm=vm)
        return
    if job.vm is None:
        return
    if operation.read_back == operations.FORGET_VM and succeeded:
        job.vm.delete()  # asked for here: gone for good, not "missing"
        return
    name = job.target
    if job.kind == operations.JobKind.RENAME and succeeded:
        name = job.params["new_name"]
        VirtualMachine.objects.filter(pk=job.vm.pk).update(name=name)
    moved = job.kind in (operations.JobKind.MIGRATE, operations.JobKind.FAILOVER) and succeeded
    uri = operations.vm_uri(job)
    if moved:
        uri = operations.target_uri(job) or uri
    try:
        store_vm(job.cluster, backend.read_vm(name, uri=uri))
    except NotFound:
        if not moved:
            raise
        # Placed automatically on a host we did not name: a sync finds where it went.
        enqueue_sync(job.cluster)


def _job_type(operation: operations.Operation) -> registry.JobType:
    return registry.JobType(
        kind=operation.kind,
        label=operation.label,
        run=run_operation,
        expected_errors=CLUSTER_ERRORS,
        check_manage=services.require_job_permission,
        retry=services.retry_job,
    )


operations.on_declare(lambda operation: registry.register(_job_type(operation)))


class SyncFailed(Exception):
    """The cluster could not be read; the cluster's page says why too."""


def run_sync(job: Job, progress) -> None:
    """Read the cluster's inventory into the database; always releases the sync claim."""
    try:
        result = sync_cluster(job.cluster_id)
    finally:
        release_sync_claim(job.cluster_id, job.pk)
        runner.keep_latest(job, SYNC_JOBS_KEPT)
    # After a failed read too: a failing sync is itself a problem the admins hear of.
    check_alerts(job.cluster)
    if result.error:
        raise SyncFailed(result.error)
    progress.log(
        _("%(created)d new, %(updated)d changed, %(missing)d missing, %(unchanged)d unchanged.")
        % {
            "created": result.created,
            "updated": result.updated,
            "missing": result.missing,
            "unchanged": result.unchanged,
        }
    )


# Syncs run every SYNC_INTERVAL seconds per cluster: keep the latest few, as a history of
# what the cluster looked like to us, not one row a minute for ever.
SYNC_JOBS_KEPT = 20


registry.register(
    registry.JobType(
        kind=SYNC,
        label=gettext_lazy("sync inventory"),
        run=run_sync,
        expected_errors=(SyncFailed,),
        check_manage=require_cluster_admin,
        # The sync has its own guard against running twice: the cluster's claim.
        timeout=3600,
    )
)
