"""Requesting operations on VMs and nodes: validation, one Job row, then a worker does it.

Views, the API and the jobs themselves call these; none of them talks to a cluster.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from clusters.choices import ClusterKind
from vms import jobs
from vms.choices import ActualState, JobKind, JobStatus
from vms.models import Job, VirtualMachine

# Templates whose disks exist on two nodes (or shared storage), so the VM can move or fail over.
# Ganeti counts diskless among them ("trivially externally mirrored"): nothing to copy.
MOVABLE_TEMPLATES = {
    "drbd",
    "sharedfile",
    "shared",
    "rbd",
    "blockdev",
    "ext",
    "gluster",
    "diskless",
}


class OperationRefused(Exception):
    """The operation cannot be asked for now; the message says why."""


def available_actions(vm: VirtualMachine) -> list[str]:
    """The operations that make sense for this VM in its state, on its kind of cluster."""
    if vm.missing:
        return []
    ganeti = vm.cluster.kind == ClusterKind.GANETI
    state = vm.actual_state
    actions = []
    if state in (ActualState.STOPPED, ActualState.ERROR, ActualState.UNKNOWN):
        actions.append(JobKind.START)
    if state in (ActualState.RUNNING, ActualState.PAUSED):
        actions += [JobKind.SHUTDOWN, JobKind.REBOOT]
    if state in (ActualState.RUNNING, ActualState.PAUSED, ActualState.ERROR):
        actions.append(JobKind.FORCE_OFF)
    if state == ActualState.RUNNING and (not ganeti or vm.disk_template in MOVABLE_TEMPLATES):
        actions.append(JobKind.MIGRATE)
    if ganeti and vm.disk_template in MOVABLE_TEMPLATES:
        actions.append(JobKind.FAILOVER)
    actions.append(JobKind.MODIFY)
    if state == ActualState.STOPPED:  # Ganeti and libvirt both rename only a stopped VM
        actions.append(JobKind.RENAME)
    if ganeti and state == ActualState.STOPPED:
        actions.append(JobKind.REINSTALL)
    actions.append(JobKind.DELETE)
    return actions


def _refusal(vm, kind) -> str:
    """Why an operation is not offered for this VM, in the user's words."""
    names = {"operation": JobKind(kind).label, "vm": vm.name}
    ganeti = vm.cluster.kind == ClusterKind.GANETI
    moving = kind in (JobKind.MIGRATE, JobKind.FAILOVER)
    if moving and ganeti and vm.disk_template not in MOVABLE_TEMPLATES:
        return _(
            "%(operation)s is not possible for %(vm)s: its disks (%(template)s) live on "
            "one node only."
        ) % {**names, "template": vm.disk_template}
    return _("%(operation)s is not possible for %(vm)s while it is %(state)s.") % {
        **names,
        "state": vm.get_actual_state_display(),
    }


def _busy(vm) -> bool:
    return Job.objects.filter(vm=vm).unfinished().exists()


def request_vm_operation(vm: VirtualMachine, kind: str, user, **params) -> Job:
    """Queue one operation on a VM, refusing it when it makes no sense now."""
    with transaction.atomic():
        # Lock the VM row: two clicks cannot queue two conflicting operations.
        vm = VirtualMachine.objects.select_for_update().select_related("cluster").get(pk=vm.pk)
        if kind not in available_actions(vm):
            raise OperationRefused(_refusal(vm, kind))
        if _busy(vm):
            raise OperationRefused(
                _("Another operation on %(vm)s is queued or running; wait for it to end.")
                % {"vm": vm.name}
            )
        job = Job.objects.create(
            kind=kind, cluster=vm.cluster, vm=vm, target=vm.name, params=params, requested_by=user
        )
        jobs.enqueue(job)
    return job


def request_node_operation(node, kind: str, user, **params) -> Job:
    with transaction.atomic():
        if Job.objects.filter(node=node).unfinished().exists():
            raise OperationRefused(
                _("Another operation on node %(node)s is queued or running; wait for it to end.")
                % {"node": node.name}
            )
        job = Job.objects.create(
            kind=kind,
            cluster=node.cluster,
            node=node,
            target=node.name,
            params=params,
            requested_by=user,
        )
        jobs.enqueue(job)
    return job


def cancel_job(job: Job) -> bool:
    """Cancel a job that has not started; a running one runs to its end."""
    canceled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELED, error=_("Canceled before it started.")
    )
    return bool(canceled)


def retry_job(job: Job, user) -> Job:
    """Queue the same operation again, as a new job that points at the failed one."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
        raise OperationRefused(_("Only a failed or canceled job can be retried."))
    if job.vm is not None and _busy(job.vm):
        raise OperationRefused(
            _("Another operation on %(vm)s is queued or running; wait for it to end.")
            % {"vm": job.vm.name}
        )
    with transaction.atomic():
        clone = Job.objects.create(
            kind=job.kind,
            cluster=job.cluster,
            vm=job.vm,
            node=job.node,
            target=job.target,
            params=job.params,
            requested_by=user,
            retry_of=job,
        )
        jobs.enqueue(clone)
    return clone


def request_vm_creation(cluster, user, spec, owner: dict) -> Job:
    """Queue the creation of a VM; its row appears when the job has created it."""
    from dataclasses import asdict

    with transaction.atomic():
        if (
            Job.objects.filter(cluster=cluster, kind=JobKind.CREATE, target=spec.name)
            .unfinished()
            .exists()
        ):
            raise OperationRefused(_("%(name)s is already being created.") % {"name": spec.name})
        job = Job.objects.create(
            kind=JobKind.CREATE,
            cluster=cluster,
            target=spec.name,
            params={"spec": asdict(spec), "owner": owner},
            requested_by=user,
        )
        jobs.enqueue(job)
    return job
