"""Requesting operations on VMs and nodes: validation, one Job row, then a worker does it.

Views, the API and the jobs themselves call these; none of them talks to a cluster.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from clusters.choices import ClusterKind
from ganetiweb import audit, permissions
from ganetiweb.models import AuditAction
from vms import jobs, quotas
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


# The VM permission each operation needs (ganetiweb.permissions).
PERMISSION_FOR = {
    JobKind.START: "power",
    JobKind.SHUTDOWN: "power",
    JobKind.FORCE_OFF: "power",
    JobKind.REBOOT: "power",
    JobKind.MIGRATE: "migrate",
    JobKind.FAILOVER: "migrate",
    JobKind.MODIFY: "modify",
    JobKind.RENAME: "modify",
    JobKind.REINSTALL: "modify",
    JobKind.DELETE: "remove",
}
# The cluster permission each node operation needs.
NODE_PERMISSION_FOR = {
    JobKind.NODE_ROLE: "admin",
    JobKind.NODE_MIGRATE: "migrate",
    JobKind.NODE_EVACUATE: "migrate",
}


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
    """Queue one operation on a VM, refusing it when it makes no sense now or goes beyond the
    owner's quota (starting and growing count against it)."""
    permissions.require(user, vm, PERMISSION_FOR[kind])
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
        _check_quota(vm, kind, params)
        job = Job.objects.create(
            kind=kind, cluster=vm.cluster, vm=vm, target=vm.name, params=params, requested_by=user
        )
        audit.record(user, AuditAction.VM_OPERATION, vm, operation=kind, job=str(job.pk))
        jobs.enqueue(job)
    return job


def _check_quota(vm, kind, params):
    """Refuse a start or a growth that the VM's owner has no quota left for."""
    if vm.owner is None or kind not in (JobKind.START, JobKind.MODIFY):
        return
    if kind == JobKind.START:
        extra = quotas.Amounts(memory=vm.memory, vcpus=vm.vcpus)
    else:
        extra = quotas.growth(vm, params.get("changes", {}))
    problems = quotas.check(vm.cluster, vm.owner_ids, extra)
    if problems:
        raise OperationRefused(
            _(
                "%(operation)s %(vm)s would go beyond the quota of %(owner)s: %(problems)s. "
                "Ask for a larger quota."
            )
            % {
                "operation": JobKind(kind).label,
                "vm": vm.name,
                "owner": vm.owner,
                "problems": "; ".join(problems),
            }
        )


def request_node_operation(node, kind: str, user, **params) -> Job:
    permissions.require(user, node.cluster, NODE_PERMISSION_FOR[kind])
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
        audit.record(user, AuditAction.NODE_OPERATION, node.cluster, node=node.name, operation=kind)
        jobs.enqueue(job)
    return job


def require_job_permission(user, job: Job) -> None:
    """403 unless the user may ask for this job's operation again: retry and cancel need it
    (the person who asked may always cancel their own)."""
    if job.kind == JobKind.CREATE:
        permissions.require(user, job.cluster, "create_vm")
    elif job.node_id is not None:
        permissions.require(user, job.cluster, NODE_PERMISSION_FOR[job.kind])
    elif job.vm is not None:
        permissions.require(user, job.vm, PERMISSION_FOR[job.kind])
    else:  # the VM is gone: only the cluster's admins deal with its jobs
        permissions.require(user, job.cluster, "admin")


def cancel_job(job: Job, user) -> bool:
    """Cancel a job that has not started; a running one runs to its end."""
    if job.requested_by_id != user.pk:
        require_job_permission(user, job)
    canceled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELED, error=_("Canceled before it started.")
    )
    return bool(canceled)


def retry_job(job: Job, user) -> Job:
    """Queue the same operation again, as a new job that points at the failed one."""
    require_job_permission(user, job)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
        raise OperationRefused(_("Only a failed or canceled job can be retried."))
    if job.vm is not None and _busy(job.vm):
        raise OperationRefused(
            _("Another operation on %(vm)s is queued or running; wait for it to end.")
            % {"vm": job.vm.name}
        )
    with transaction.atomic():
        if job.kind == JobKind.CREATE:
            owner = job.params.get("owner") or {}
            spec = job.params["spec"]
            extra = quotas.vm_amounts(
                spec["memory"], spec["vcpus"], sum(spec["disks"]), spec.get("start", False)
            )
            problems = quotas.check(job.cluster, owner, extra)
            if problems:
                raise OperationRefused(
                    _("Creating %(name)s again would go beyond the quota: %(problems)s.")
                    % {"name": job.target, "problems": "; ".join(problems)}
                )
        elif job.vm is not None:
            _check_quota(job.vm, job.kind, job.params)
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
