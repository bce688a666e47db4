"""Requesting operations on VMs and nodes: validation, one Job row, then a worker does it.

Views and the jobs themselves call these; none of them talks to a cluster. Each function checks
the permission again, although the views have checked it: jobs (retry) and future callers
come here without a view.
"""

from dataclasses import asdict

from django.db import transaction
from django.utils.translation import gettext as _

from access import permissions
from audit import log as audit_log
from audit.models import AuditAction
from clusters.choices import ClusterKind
from jobs import runner
from jobs.models import Job, JobStatus
from jobs.registry import JobRefused
from vms import nics as vm_nics
from vms import operations, quotas
from vms.models import VirtualMachine
from vms.operations import MOVABLE_TEMPLATES, JobKind, Operation

# Refusals are the runner's kind: a retry refused here reads the same on the job page.
OperationRefused = JobRefused


def _refusal(vm, operation: Operation) -> str:
    """Why an operation is not offered for this VM, in the user's words."""
    names = {"operation": operation.label, "vm": vm.name}
    ganeti = vm.cluster.kind == ClusterKind.GANETI
    moving = operation.kind in (JobKind.MIGRATE, JobKind.FAILOVER)
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


def request_vm_operation(
    vm: VirtualMachine, kind: str, user, *, retry_of: Job | None = None, **params
) -> Job:
    """Queue one operation on a VM, refusing it when it makes no sense now or goes beyond the
    owner's quota (starting and growing count against it). `retry_of`: the job it repeats."""
    operation = operations.get(kind)
    permissions.require(user, vm, operation.permission)
    with transaction.atomic():
        # Lock the VM row: two clicks cannot queue two conflicting operations.
        vm = VirtualMachine.objects.select_for_update().select_related("cluster").get(pk=vm.pk)
        if operation not in operations.available_for(vm):
            raise OperationRefused(_refusal(vm, operation))
        if _busy(vm):
            raise OperationRefused(
                _("Another operation on %(vm)s is queued or running; wait for it to end.")
                % {"vm": vm.name}
            )
        _check_quota(vm, operation, params)
        if operation.kind == JobKind.MODIFY:
            check_nics(vm.cluster, params.get("changes", {}).get("add_nics", []))
        job = Job.objects.create(
            kind=kind,
            cluster=vm.cluster,
            vm=vm,
            target=vm.name,
            params=params,
            requested_by=user,
            retry_of=retry_of,
        )
        audit_log.record(user, AuditAction.VM_OPERATION, vm, operation=kind, job=str(job.pk))
        runner.enqueue(job)
    return job


def check_nics(cluster, nics: list) -> None:
    """Refuse NICs on a network or link the cluster does not offer, or with an address that
    is not theirs to take (vms/nics.py). `nics`: NicSpecs or their JSON."""
    problems = vm_nics.check(cluster, [n if isinstance(n, dict) else asdict(n) for n in nics])
    if problems:
        raise OperationRefused(" ".join(problems))


def _check_quota(vm, operation: Operation, params):
    """Refuse a start or a growth that the VM's owner has no quota left for."""
    if vm.owner is None or operation.kind not in (JobKind.START, JobKind.MODIFY):
        return
    if operation.kind == JobKind.START:
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
                "operation": operation.label,
                "vm": vm.name,
                "owner": vm.owner,
                "problems": "; ".join(problems),
            }
        )


def request_node_operation(node, kind: str, user, *, retry_of: Job | None = None, **params) -> Job:
    permissions.require(user, node.cluster, operations.get(kind).permission)
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
            retry_of=retry_of,
        )
        audit_log.record(
            user, AuditAction.NODE_OPERATION, node.cluster, node=node.name, operation=kind
        )
        runner.enqueue(job)
    return job


def require_job_permission(user, job: Job) -> None:
    """403 unless the user may ask for this job's operation again: retry and cancel need it
    (the person who asked may always cancel their own)."""
    operation = operations.get(job.kind)
    if job.kind == JobKind.CREATE:
        permissions.require(user, job.cluster, "create_vm")
    elif job.node_id is not None:
        permissions.require(user, job.cluster, operation.permission)
    elif job.vm is not None:
        permissions.require(user, job.vm, operation.permission)
    else:  # the VM is gone: only the cluster's admins deal with its jobs
        permissions.require(user, job.cluster, "admin")


def retry_job(job: Job, user) -> Job:
    """Queue the same operation again, as a new job that points at the failed one.

    A retry is a new request: it takes the same path as the first one (the permission, the VM
    row's lock, whether the operation makes sense for the VM now, the quota), so a retry can
    do nothing a click on the VM page could not.
    """
    require_job_permission(user, job)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
        raise OperationRefused(_("Only a failed or canceled job can be retried."))
    if job.kind == JobKind.CREATE:
        return _retry_creation(job, user)
    if job.node is not None:
        return request_node_operation(job.node, job.kind, user, retry_of=job, **job.params)
    if job.vm is None:
        raise OperationRefused(
            _("%(vm)s is no longer in the inventory: sync the cluster, then ask again.")
            % {"vm": job.target}
        )
    return request_vm_operation(job.vm, job.kind, user, retry_of=job, **job.params)


def _retry_creation(job: Job, user) -> Job:
    with transaction.atomic():
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
        spec_object = operations.spec_from_params(job.params)
        return request_vm_creation(job.cluster, user, spec_object, owner, retry_of=job)


def request_vm_creation(cluster, user, spec, owner: dict, *, retry_of: Job | None = None) -> Job:
    """Queue the creation of a VM; its row appears when the job has created it."""
    with transaction.atomic():
        if (
            Job.objects.filter(cluster=cluster, kind=JobKind.CREATE, target=spec.name)
            .unfinished()
            .exists()
        ):
            raise OperationRefused(_("%(name)s is already being created.") % {"name": spec.name})
        check_nics(cluster, spec.nics)
        job = Job.objects.create(
            kind=JobKind.CREATE,
            cluster=cluster,
            target=spec.name,
            params={"spec": spec.to_json(), "owner": owner},
            requested_by=user,
            retry_of=retry_of,
        )
        runner.enqueue(job)
    return job
