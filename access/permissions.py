"""Who may see and do what: the one place that decides, for views, jobs and consumers alike.

Every object a request touches is fetched through `visible_to(user, perm)` on its queryset
(`ClusterQuerySet`, `VirtualMachineQuerySet`): the rules live there, beside the models they
filter, and are built from the tables and helpers below. Rules:
- superusers may do everything; anonymous and inactive users nothing;
- object permissions are granted with django-guardian to users and to groups;
- a VM's owner (its user, or a member of its group) holds every VM permission on it;
- a cluster `admin` holds every permission on the cluster and on all its VMs;
- a cluster `migrate` permission lets its holder migrate every VM of the cluster;
- a VM is visible to whoever holds any permission on it; a cluster is visible to whoever holds
  any permission on it or sees one of its VMs.

This module imports no project model: the tables are keyed by model label, and the querysets
hand their models in.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import get_objects_for_user

CLUSTER_PERMISSIONS = {
    "admin": gettext_lazy("administer the cluster"),
    "create_vm": gettext_lazy("create VMs"),
    "request_vm": gettext_lazy("request VMs (an admin approves them)"),
    "migrate": gettext_lazy("migrate VMs and move nodes' VMs"),
}
VM_PERMISSIONS = {
    "admin": gettext_lazy("administer the VM (all of the below, and sharing)"),
    "power": gettext_lazy("start, stop and reboot"),
    "console": gettext_lazy("open the console"),
    "modify": gettext_lazy("change its size, rename, reinstall"),
    "migrate": gettext_lazy("migrate and fail over"),
    "remove": gettext_lazy("delete"),
}
# The permissions one can hold on each kind of object, by model label.
PERMISSIONS = {"clusters.cluster": CLUSTER_PERMISSIONS, "vms.virtualmachine": VM_PERMISSIONS}
# Column headings of the sharing table and words of the audit log; the tables above have the
# longer descriptions.
SHORT_LABELS = {
    "admin": gettext_lazy("Administer"),
    "create_vm": gettext_lazy("Create VMs"),
    "request_vm": gettext_lazy("Request VMs"),
    "power": gettext_lazy("Power"),
    "console": gettext_lazy("Console"),
    "modify": gettext_lazy("Modify"),
    "migrate": gettext_lazy("Migrate"),
    "remove": gettext_lazy("Delete"),
}
# A cluster permission implied by each stronger one ("admin" implies all).
CLUSTER_IMPLIED_BY = {"request_vm": ["create_vm"]}
# Cluster permissions that give a VM permission on every VM of the cluster.
VM_PERMISSION_FROM_CLUSTER = {"migrate": ["migrate"]}


def permission_names(obj: Model | type[Model]) -> dict:
    """The permissions one can hold on `obj` (a cluster or a VM, or their model)."""
    return PERMISSIONS[obj._meta.label_lower]


def check_name(perm: str | None, model: type[Model]) -> None:
    """Refuse a permission name the model does not have: a typo must not mean 'nobody'."""
    known = permission_names(model)
    if perm is not None and perm not in known:
        name = model._meta.verbose_name
        raise ValueError(f"{perm!r} is not a {name} permission; use one of {sorted(known)}")


def may_hold_any(user) -> bool:
    """Anonymous and deactivated users hold nothing, whatever rows say."""
    return bool(user.is_authenticated and user.is_active)


def held_on(user, model: type[Model], codenames) -> QuerySet:
    """The pks of `model` objects on which the user, or one of their groups, holds one of
    `codenames` (guardian's direct foreign key tables; no superuser shortcut)."""
    return get_objects_for_user(
        user,
        [f"{model._meta.app_label}.{codename}" for codename in codenames],
        klass=model,
        any_perm=True,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")


def permissions_on(user, obj) -> frozenset[str]:
    """Every permission the user holds on one cluster or VM, in one query, for templates."""
    model = type(obj)
    names = permission_names(obj)
    checks = {
        perm: Exists(model.objects.visible_to(user, perm).filter(pk=OuterRef("pk")))
        for perm in names
    }
    row = model.objects.filter(pk=obj.pk).annotate(**checks).values(*checks).first() or {}
    return frozenset(perm for perm in names if row.get(perm))


def require(user, obj, perm: str, message: str | None = None) -> None:
    """Raise a 403 with a message unless the user holds `perm` on an object they can see."""
    if not type(obj).objects.visible_to(user, perm).filter(pk=obj.pk).exists():
        raise PermissionDenied(message or denial(obj, perm))


def denial(obj, perm: str) -> str:
    """Why a user may not do `perm` on `obj`, in words the 403 page shows."""
    return _("You lack the permission to %(permission)s on %(object)s; ask its administrator.") % {
        "permission": permission_names(obj)[perm],
        "object": obj,
    }


def get_for_user_or_404(queryset, user, perm: str | None = None, message=None, **lookup):
    """The object of `queryset` found by `lookup` that the user may see, else a 404; when
    `perm` is given and the user sees the object but does not hold it, a 403 that says so.

    One query: whether the user holds `perm` comes back with the object. Views fetch clusters
    and VMs through here; the console consumer, which answers no 404, through the same
    `visible_to` querysets.
    """
    visible = queryset.visible_to(user)
    if perm is not None:
        check_name(perm, queryset.model)
        holds = queryset.model.objects.visible_to(user, perm).filter(pk=OuterRef("pk"))
        visible = visible.annotate(_holds_perm=Exists(holds))
    try:
        obj = visible.get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(
            _("No such %(object)s here.") % {"object": queryset.model._meta.verbose_name}
        ) from None
    if perm is not None and not obj._holds_perm:
        raise PermissionDenied(message or denial(obj, perm))
    return obj
