"""Quotas: what an owner uses on a cluster, what they may use, and the locked check.

Disk and the number of VMs count every VM of the owner; memory and vCPUs count the VMs that
run (or are asked to). Work already queued (creations, starts, growth) counts as used, so a
request cannot slip in between a check and the worker that carries out an earlier one.
"""

from dataclasses import asdict, dataclass, fields

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jobs.models import Job, JobStatus
from vms.choices import ActualState, WantedState
from vms.models import Quota, VirtualMachine
from vms.operations import JobKind


@dataclass
class Amounts:
    """Memory and disk in MiB, vCPUs, and a number of VMs."""

    memory: int = 0
    disk: int = 0
    vcpus: int = 0
    vms: int = 0

    def __add__(self, other):
        return Amounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass
class Limits:
    """What an owner may use; None is unlimited."""

    memory: int | None = None
    disk: int | None = None
    vcpus: int | None = None
    vms: int | None = None

    @classmethod
    def of(cls, quota):
        if quota is None:
            return cls()
        return cls(memory=quota.memory, disk=quota.disk, vcpus=quota.vcpus, vms=quota.vms)

    @property
    def unlimited(self):
        return all(value is None for value in asdict(self).values())


def _owner_filter(owner: dict) -> dict:
    """Row filters for an owner given as {"user": pk} or {"group": pk}."""
    if owner.get("user"):
        return {"owner_user_id": owner["user"]}
    if owner.get("group"):
        return {"owner_group_id": owner["group"]}
    raise ValueError("an owner is a user or a group")


def _same_owner(params_owner: dict | None, owner: dict) -> bool:
    params_owner = params_owner or {}
    return (params_owner.get("user"), params_owner.get("group")) == (
        owner.get("user"),
        owner.get("group"),
    )


def limits_for(cluster, owner: dict) -> Limits:
    """The owner's own quota, or the cluster default where they have none (or follow it)."""
    rows = {
        (q.owner_user_id, q.owner_group_id): q
        for q in Quota.objects.filter(cluster=cluster)
        .filter(**_owner_filter(owner))
        .union(Quota.objects.filter(cluster=cluster, owner_user=None, owner_group=None))
    }
    key = (owner.get("user"), owner.get("group"))
    own = rows.get(key)
    if own is not None and not own.use_default:
        return Limits.of(own)
    return Limits.of(rows.get((None, None)))


def vm_amounts(memory, vcpus, disk, running) -> Amounts:
    return Amounts(memory=memory if running else 0, vcpus=vcpus if running else 0, disk=disk, vms=1)


def _runs(vm) -> bool:
    return vm.actual_state in (ActualState.RUNNING, ActualState.PAUSED) or (
        vm.wanted_state == WantedState.UP
    )


def usage_of(cluster, owner: dict) -> Amounts:
    """What the owner uses on the cluster now, queued work included."""
    vms = {
        vm.pk: vm
        for vm in VirtualMachine.objects.filter(
            cluster=cluster, missing=False, **_owner_filter(owner)
        ).only("memory", "vcpus", "disks", "actual_state", "wanted_state")
    }
    used = Amounts()
    for vm in vms.values():
        used += vm_amounts(vm.memory, vm.vcpus, vm.disk_total, _runs(vm))
    queued = Job.objects.filter(cluster=cluster).unfinished()
    for job in queued.filter(kind__in=[JobKind.START, JobKind.MODIFY], vm_id__in=vms):
        vm = vms[job.vm_id]
        used += _queued_growth(job, vm)
    # A creation counts from its request until its VM row exists: the job is marked succeeded
    # a moment before the worker stores the new row, so succeeded ones without a row count too.
    creations = Job.objects.filter(
        cluster=cluster,
        kind=JobKind.CREATE,
        vm=None,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED],
    ).exclude(target__in=VirtualMachine.objects.filter(cluster=cluster).values("name"))
    for job in creations:
        if _same_owner(job.params.get("owner"), owner):
            spec = job.params["spec"]
            used += vm_amounts(
                spec["memory"], spec["vcpus"], sum(spec["disks"]), spec.get("start", False)
            )
    return used


def _queued_growth(job, vm) -> Amounts:
    if job.kind == JobKind.START:
        return Amounts() if _runs(vm) else Amounts(memory=vm.memory, vcpus=vm.vcpus)
    return growth(vm, job.params.get("changes", {}))


def growth(vm, changes: dict) -> Amounts:
    """How much a modification adds to what the VM counts for (never negative)."""
    running = _runs(vm)
    memory = max(0, changes.get("memory", vm.memory) - vm.memory) if running else 0
    vcpus = max(0, changes.get("vcpus", vm.vcpus) - vm.vcpus) if running else 0
    disk = sum(int(size) for size in changes.get("grow_disks", {}).values())
    return Amounts(memory=memory, vcpus=vcpus, disk=disk)


def lock(cluster, owner: dict) -> Quota:
    """Take the owner's quota row for update, creating it on first use.

    Every check for this owner on this cluster goes through here first, so two requests are
    decided one after the other, each seeing what the other queued.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quotas.lock() must run inside a transaction")
    row, _created = Quota.objects.get_or_create(cluster=cluster, **_owner_filter(owner))
    return Quota.objects.select_for_update().get(pk=row.pk)


LABELS = {
    "memory": lambda n: _("%(amount)s MiB of memory") % {"amount": n},
    "disk": lambda n: _("%(amount)s MiB of disk") % {"amount": n},
    "vcpus": lambda n: ngettext("%(amount)s vCPU", "%(amount)s vCPUs", n) % {"amount": n},
    "vms": lambda n: ngettext("%(amount)s VM", "%(amount)s VMs", n) % {"amount": n},
}


def excess(limits: Limits, used: Amounts, extra: Amounts) -> list[str]:
    """What `extra` would take beyond the limits, in words; empty when it fits."""
    problems = []
    for name in ("memory", "disk", "vcpus", "vms"):
        limit, more = getattr(limits, name), getattr(extra, name)
        if limit is None or more == 0:
            continue
        after = getattr(used, name) + more
        if after > limit:
            problems.append(
                _("%(wanted)s in all, over the quota of %(limit)s")
                % {"wanted": LABELS[name](after), "limit": LABELS[name](limit)}
            )
    return problems


def over_quota(cluster, owner: dict) -> list[str]:
    """Where the owner uses more than their quota now, in words; empty when within it.

    Only a cluster admin can put an owner there (by giving them a VM), never a request.
    """
    return excess(limits_for(cluster, owner), Amounts(), usage_of(cluster, owner))


def check(cluster, owner: dict, extra: Amounts) -> list[str]:
    """Lock the owner's quota and say what `extra` would exceed (empty: it fits).

    Call it inside the transaction that also queues the work, so the lock covers both.
    """
    lock(cluster, owner)
    return excess(limits_for(cluster, owner), usage_of(cluster, owner), extra)
