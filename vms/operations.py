"""Every VM and node operation, declared once.

One `Operation` says all there is to know about one kind of job on a VM or a node: its name in
the user's words, the button on the VM page (icon, style, URL slug), the permission it needs,
when it makes sense for the VM's state and disk template, the form with its options, the
backend call the worker makes, and how the inventory follows it. From these declarations come
the URL dispatch (`vms/views/vms.py`), the permission table, the buttons
(`templates/vms/vm_actions.html` loops over them), and the job kinds the runner knows
(`vms/jobs.py`). Adding an operation means one declaration here and its backend method.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from clusters.backends.base import Operations, Progress, VMChanges, VMSpec
from clusters.choices import ClusterKind
from clusters.models import Node
from jobs import registry
from jobs.models import Job
from vms.choices import ActualState
from vms.forms.actions import (
    ActionForm,
    DeleteForm,
    ModifyForm,
    MoveForm,
    RebootForm,
    ReinstallForm,
    RenameForm,
    ShutdownForm,
)

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

# What the inventory does after an operation (see vms/jobs.py, `read_back`).
READ_VM = "read_vm"  # read the VM back from its host
READ_CREATED = "read_created"  # read the new VM, and give it its owner
FORGET_VM = "forget_vm"  # delete the row on success: gone for good, not "missing"
SYNC_CLUSTER = "sync_cluster"  # a whole node's VMs moved: sync the cluster


@dataclass(frozen=True)
class Operation:
    """One kind of job on a VM (`on="vm"`) or a node (`on="node"`)."""

    kind: str
    label: Any  # how job lists name it: "shut down"
    call: Callable[[Job, Operations, Progress], object]
    on: str = "vm"
    # The VM permission it needs (`on="vm"`), or the cluster permission (`on="node"`).
    permission: str = ""
    # The VM page's button; an operation without `button` has none (creation, node ones).
    button: Any = None
    icon: str = ""
    style: str = "outline-secondary"
    slug: str = ""  # /vms/<cluster>/<vm>/<slug>/
    form: type[ActionForm] = ActionForm
    one_click: bool = False  # the button POSTs at once; others open the form first
    available: Callable[[Any], bool] = lambda vm: True  # noqa: E731
    read_back: str = READ_VM


def vm_uri(job) -> str:
    """The libvirt host URI of the VM's primary node ('' for Ganeti)."""
    vm = job.vm
    return vm.primary_node.libvirt_uri if vm and vm.primary_node else ""


def target_uri(job) -> str:
    """The libvirt URI of the node a migration was asked to go to ('' when automatic)."""
    name = job.params.get("target_node", "")
    if not name:
        return ""
    node = Node.objects.filter(cluster=job.cluster, name=name).first()
    return node.libvirt_uri if node else ""


def spec_from_params(params: dict) -> VMSpec:
    return VMSpec.from_json(params["spec"])


def changes_from_params(params: dict) -> VMChanges:
    return VMChanges.from_json(params["changes"])


def _ganeti(vm) -> bool:
    return vm.cluster.kind == ClusterKind.GANETI


def _movable(vm) -> bool:
    return not _ganeti(vm) or vm.disk_template in MOVABLE_TEMPLATES


def _state_in(*states):
    return lambda vm: vm.actual_state in states


STOPPED_LIKE = (ActualState.STOPPED, ActualState.ERROR, ActualState.UNKNOWN)
UP = (ActualState.RUNNING, ActualState.PAUSED)

OPERATIONS = [
    Operation(
        kind="create",
        label=_("create VM"),
        call=lambda job, b, p: b.create_vm(spec_from_params(job.params), p),
        read_back=READ_CREATED,
    ),
    Operation(
        kind="start",
        label=_("start"),
        call=lambda job, b, p: b.start_vm(job.target, p, uri=vm_uri(job)),
        permission="power",
        button=_("Start"),
        icon="play-fill",
        style="success",
        slug="start",
        one_click=True,
        available=_state_in(*STOPPED_LIKE),
    ),
    Operation(
        kind="shutdown",
        label=_("shut down"),
        call=lambda job, b, p: b.shutdown_vm(
            job.target, int(job.params.get("timeout", 120)), p, uri=vm_uri(job)
        ),
        permission="power",
        button=_("Shut down"),
        icon="stop-fill",
        slug="shutdown",
        form=ShutdownForm,
        available=_state_in(*UP),
    ),
    Operation(
        kind="reboot",
        label=_("reboot"),
        call=lambda job, b, p: b.reboot_vm(
            job.target, p, uri=vm_uri(job), hard=bool(job.params.get("hard"))
        ),
        permission="power",
        button=_("Reboot"),
        icon="arrow-clockwise",
        slug="reboot",
        form=RebootForm,
        available=_state_in(*UP),
    ),
    Operation(
        kind="force_off",
        label=_("force off"),
        call=lambda job, b, p: b.force_off_vm(job.target, p, uri=vm_uri(job)),
        permission="power",
        button=_("Force off"),
        icon="power",
        style="outline-danger",
        slug="force-off",
        available=_state_in(*UP, ActualState.ERROR),
    ),
    Operation(
        kind="migrate",
        label=_("live migrate"),
        call=lambda job, b, p: b.migrate_vm(
            job.target,
            p,
            uri=vm_uri(job),
            target_node=job.params.get("target_node", ""),
            target_uri=target_uri(job),
        ),
        permission="migrate",
        button=_("Migrate"),
        icon="arrow-left-right",
        style="outline-primary",
        slug="migrate",
        form=MoveForm,
        available=lambda vm: vm.actual_state == ActualState.RUNNING and _movable(vm),
    ),
    Operation(
        kind="failover",
        label=_("fail over"),
        call=lambda job, b, p: b.failover_vm(
            job.target, p, target_node=job.params.get("target_node", "")
        ),
        permission="migrate",
        button=_("Fail over"),
        icon="shuffle",
        style="outline-primary",
        slug="failover",
        form=MoveForm,
        available=lambda vm: _ganeti(vm) and vm.disk_template in MOVABLE_TEMPLATES,
    ),
    Operation(
        kind="modify",
        label=_("modify"),
        call=lambda job, b, p: b.modify_vm(
            job.target, changes_from_params(job.params), p, uri=vm_uri(job)
        ),
        permission="modify",
        button=_("Modify"),
        icon="sliders",
        slug="modify",
        form=ModifyForm,
    ),
    Operation(
        kind="rename",
        label=_("rename"),
        call=lambda job, b, p: b.rename_vm(job.target, job.params["new_name"], p, uri=vm_uri(job)),
        permission="modify",
        button=_("Rename"),
        icon="input-cursor-text",
        slug="rename",
        form=RenameForm,
        # Ganeti and libvirt both rename only a stopped VM.
        available=_state_in(ActualState.STOPPED),
    ),
    Operation(
        kind="reinstall",
        label=_("reinstall"),
        call=lambda job, b, p: b.reinstall_vm(job.target, job.params["os"], p, uri=vm_uri(job)),
        permission="modify",
        button=_("Reinstall"),
        icon="arrow-repeat",
        style="outline-warning",
        slug="reinstall",
        form=ReinstallForm,
        available=lambda vm: _ganeti(vm) and vm.actual_state == ActualState.STOPPED,
    ),
    Operation(
        kind="delete",
        label=_("delete"),
        call=lambda job, b, p: b.delete_vm(job.target, p, uri=vm_uri(job)),
        permission="remove",
        button=_("Delete"),
        icon="trash",
        style="outline-danger",
        slug="delete",
        form=DeleteForm,
        read_back=FORGET_VM,
    ),
    Operation(
        kind="node_role",
        label=_("change node role"),
        call=lambda job, b, p: b.set_node_role(job.target, job.params["role"], p),
        on="node",
        permission="admin",
        read_back=SYNC_CLUSTER,
    ),
    Operation(
        kind="node_migrate",
        label=_("migrate node's VMs away"),
        call=lambda job, b, p: b.migrate_node(job.target, p),
        on="node",
        permission="migrate",
        read_back=SYNC_CLUSTER,
    ),
    Operation(
        kind="node_evacuate",
        label=_("evacuate node"),
        call=lambda job, b, p: b.evacuate_node(job.target, p),
        on="node",
        permission="migrate",
        read_back=SYNC_CLUSTER,
    ),
]

_BY_KIND: dict[str, Operation] = {}
_BY_SLUG: dict[str, Operation] = {}
# Called with each operation declared, past and future: vms/jobs.py makes it a job kind.
_LISTENERS: list[Callable[[Operation], object]] = []


def declare(operation: Operation) -> Operation:
    """Add an operation: its button, URL, permission and job kind follow from it."""
    if operation.kind in _BY_KIND:
        raise ValueError(f"The operation {operation.kind!r} is declared twice.")
    _BY_KIND[operation.kind] = operation
    if operation.slug:
        _BY_SLUG[operation.slug] = operation
    for listener in _LISTENERS:
        listener(operation)
    return operation


def on_declare(listener: Callable[[Operation], object]) -> None:
    """Call `listener` for every operation declared so far and every one declared later."""
    _LISTENERS.append(listener)
    for operation in list(_BY_KIND.values()):
        listener(operation)


def withdraw(kind: str) -> None:
    """Forget an operation and its job kind (tests that declare one of their own)."""
    operation = _BY_KIND.pop(kind, None)
    if operation is not None and operation.slug:
        _BY_SLUG.pop(operation.slug, None)
    registry.unregister(kind)


for _operation in OPERATIONS:
    declare(_operation)


def get(kind: str) -> Operation:
    return _BY_KIND[kind]


def by_slug(slug: str) -> Operation | None:
    """The VM operation a URL names, or None."""
    return _BY_SLUG.get(slug)


def all_operations() -> list[Operation]:
    return list(_BY_KIND.values())


def vm_operations() -> list[Operation]:
    """The operations with a button on the VM page, in the order the buttons stand."""
    return [op for op in _BY_KIND.values() if op.on == "vm" and op.button is not None]


def available_for(vm) -> list[Operation]:
    """The operations that make sense for this VM in its state, on its kind of cluster."""
    if vm.missing:
        return []
    return [op for op in vm_operations() if op.available(vm)]


# The kinds of job on VMs and nodes, as the code and the tests name them (JobKind.START): made
# from the declarations, so a kind is named in one place only. django-stubs types the call
# `TextChoices(value)` (a member lookup), not Enum's functional API that makes a new class.
JobKind = models.TextChoices(  # type: ignore[call-overload]
    "JobKind", [(op.kind.upper(), (op.kind, op.label)) for op in OPERATIONS]
)
