"""What each kind of job does with the backend, and how the inventory row follows it.

Job params are plain JSON written by vms/services.py; here they become backend calls.
"""

from clusters.backends.base import NicSpec, NotFound, VMChanges, VMSpec
from clusters.models import Node
from clusters.sync import store_vm
from vms.choices import JobKind, JobStatus
from vms.models import Job, VirtualMachine


def _uri(job) -> str:
    """The libvirt host URI of the VM's primary node ('' for Ganeti)."""
    vm = job.vm
    return vm.primary_node.libvirt_uri if vm and vm.primary_node else ""


def spec_from_params(params: dict) -> VMSpec:
    fields = dict(params["spec"])
    fields["nics"] = [NicSpec(**nic) for nic in fields.get("nics", [])]
    return VMSpec(**fields)


def changes_from_params(params: dict) -> VMChanges:
    fields = dict(params["changes"])
    fields["grow_disks"] = {int(k): v for k, v in fields.get("grow_disks", {}).items()}
    fields["add_nics"] = [NicSpec(**nic) for nic in fields.get("add_nics", [])]
    return VMChanges(**fields)


def _target_uri(job) -> str:
    name = job.params.get("target_node", "")
    if not name:
        return ""
    node = Node.objects.filter(cluster=job.cluster, name=name).first()
    return node.libvirt_uri if node else ""


HANDLERS = {
    JobKind.CREATE: lambda job, b, p: b.create_vm(spec_from_params(job.params), p),
    JobKind.START: lambda job, b, p: b.start_vm(job.target, p, uri=_uri(job)),
    JobKind.SHUTDOWN: lambda job, b, p: b.shutdown_vm(
        job.target, int(job.params.get("timeout", 120)), p, uri=_uri(job)
    ),
    JobKind.FORCE_OFF: lambda job, b, p: b.force_off_vm(job.target, p, uri=_uri(job)),
    JobKind.REBOOT: lambda job, b, p: b.reboot_vm(
        job.target, p, uri=_uri(job), hard=bool(job.params.get("hard"))
    ),
    JobKind.MIGRATE: lambda job, b, p: b.migrate_vm(
        job.target,
        p,
        uri=_uri(job),
        target_node=job.params.get("target_node", ""),
        target_uri=_target_uri(job),
    ),
    JobKind.FAILOVER: lambda job, b, p: b.failover_vm(
        job.target, p, target_node=job.params.get("target_node", "")
    ),
    JobKind.MODIFY: lambda job, b, p: b.modify_vm(
        job.target, changes_from_params(job.params), p, uri=_uri(job)
    ),
    JobKind.RENAME: lambda job, b, p: b.rename_vm(
        job.target, job.params["new_name"], p, uri=_uri(job)
    ),
    JobKind.REINSTALL: lambda job, b, p: b.reinstall_vm(
        job.target, job.params["os"], p, uri=_uri(job)
    ),
    JobKind.DELETE: lambda job, b, p: b.delete_vm(job.target, p, uri=_uri(job)),
    JobKind.NODE_ROLE: lambda job, b, p: b.set_node_role(job.target, job.params["role"], p),
    JobKind.NODE_MIGRATE: lambda job, b, p: b.migrate_node(job.target, p),
    JobKind.NODE_EVACUATE: lambda job, b, p: b.evacuate_node(job.target, p),
}
NODE_KINDS = {JobKind.NODE_ROLE, JobKind.NODE_MIGRATE, JobKind.NODE_EVACUATE}


def run(job, backend, progress) -> None:
    progress.percent(0)
    if job.remote_job_id:
        # A worker died while following this cluster job: follow the same job to its end.
        backend.follow_remote_job(job.remote_job_id, progress)
        return
    HANDLERS[job.kind](job, backend, progress)


def refresh(job, backend) -> None:
    """Bring the database in line with what the operation did on the cluster."""
    status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).get()
    succeeded = status == JobStatus.SUCCEEDED
    if job.kind in NODE_KINDS:
        from clusters.jobs import enqueue_sync  # the whole node's VMs moved: read them all

        enqueue_sync(job.cluster)
        return
    if job.kind == JobKind.CREATE:
        if succeeded:
            spec = spec_from_params(job.params)
            vm = store_vm(job.cluster, backend.read_vm(spec.name, uri=spec.primary_uri))
            owner = job.params.get("owner", {})
            VirtualMachine.objects.filter(pk=vm.pk).update(
                owner_user_id=owner.get("user"), owner_group_id=owner.get("group")
            )
            Job.objects.filter(pk=job.pk).update(vm=vm)
        return
    if job.vm is None:
        return
    if job.kind == JobKind.DELETE and succeeded:
        job.vm.delete()  # asked for here: gone for good, not "missing"
        return
    name = job.target
    if job.kind == JobKind.RENAME and succeeded:
        name = job.params["new_name"]
        VirtualMachine.objects.filter(pk=job.vm.pk).update(name=name)
    moved = job.kind in (JobKind.MIGRATE, JobKind.FAILOVER) and succeeded
    uri = (_target_uri(job) or _uri(job)) if moved else _uri(job)
    try:
        store_vm(job.cluster, backend.read_vm(name, uri=uri))
    except NotFound:
        if not moved:
            raise
        # Placed automatically on a host we did not name: a sync finds where it went.
        from clusters.jobs import enqueue_sync

        enqueue_sync(job.cluster)
