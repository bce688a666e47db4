"""Who may see and do what: the one place that decides, for views, API and consumers alike.

Every object a request touches is fetched through `visible_to(user, perm)` on its queryset
(clusters and VMs), which calls the functions below. Rules:
- superusers may do everything; anonymous users nothing;
- object permissions are granted with django-guardian to users and to groups;
- a VM's owner (its user, or a member of its group) holds every VM permission on it;
- a cluster `admin` holds every permission on the cluster and on all its VMs;
- a cluster `migrate` permission lets its holder migrate every VM of the cluster;
- a VM is visible to whoever holds any permission on it; a cluster is visible to whoever holds
  any permission on it or sees one of its VMs.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
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
# A cluster permission implied by each stronger one ("admin" implies all).
CLUSTER_IMPLIED_BY = {"request_vm": ["create_vm"]}
# Cluster permissions that give a VM permission on every VM of the cluster.
VM_PERMISSION_FROM_CLUSTER = {"migrate": ["migrate"]}


def _holders(user, model, codenames):
    """Objects of `model` on which the user, or one of their groups, holds one of `codenames`."""
    app_label = model._meta.app_label
    return get_objects_for_user(
        user,
        [f"{app_label}.{codename}" for codename in codenames],
        klass=model,
        any_perm=True,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")


def _check(perm, known, kind):
    if perm is not None and perm not in known:
        raise ValueError(f"{perm!r} is not a {kind} permission; use one of {sorted(known)}")


def visible_clusters(queryset, user, perm=None):
    """The clusters of `queryset` the user may see (perm None) or on which they hold `perm`."""
    from clusters.models import Cluster

    _check(perm, CLUSTER_PERMISSIONS, "cluster")
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if perm is None:
        any_permission = [*CLUSTER_PERMISSIONS, "view_cluster"]
        vms = visible_vms(_vm_queryset(), user)
        return queryset.filter(
            Q(pk__in=_holders(user, Cluster, any_permission)) | Q(pk__in=vms.values("cluster_id"))
        )
    codenames = ["admin", perm, *CLUSTER_IMPLIED_BY.get(perm, [])]
    return queryset.filter(pk__in=_holders(user, Cluster, codenames))


def visible_vms(queryset, user, perm=None):
    """The VMs of `queryset` the user may see (perm None) or on which they hold `perm`."""
    from clusters.models import Cluster
    from vms.models import VirtualMachine

    _check(perm, VM_PERMISSIONS, "VM")
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    codenames = list(VM_PERMISSIONS) if perm is None else ["admin", perm]
    cluster_codenames = ["admin", *VM_PERMISSION_FROM_CLUSTER.get(perm, [])]
    return queryset.filter(
        Q(owner_user=user)
        | Q(owner_group__in=user.groups.all())
        | Q(pk__in=_holders(user, VirtualMachine, codenames))
        | Q(cluster__in=_holders(user, Cluster, cluster_codenames))
    )


def _vm_queryset():
    from vms.models import VirtualMachine

    return VirtualMachine.objects.all()


def permissions_on(user, obj) -> frozenset[str]:
    """Every permission the user holds on one cluster or VM, in one query, for templates."""
    from clusters.models import Cluster

    model = type(obj)
    names = CLUSTER_PERMISSIONS if isinstance(obj, Cluster) else VM_PERMISSIONS
    checks = {
        perm: Exists(model.objects.visible_to(user, perm).filter(pk=OuterRef("pk")))
        for perm in names
    }
    row = model.objects.filter(pk=obj.pk).annotate(**checks).values(*checks).first() or {}
    return frozenset(perm for perm in names if row.get(perm))


def require(user, obj, perm, message=None):
    """Raise a 403 with a message unless the user holds `perm` on an object they can see."""
    if not type(obj).objects.visible_to(user, perm).filter(pk=obj.pk).exists():
        raise PermissionDenied(message or denial(obj, perm))


def denial(obj, perm) -> str:
    from clusters.models import Cluster

    names = CLUSTER_PERMISSIONS if isinstance(obj, Cluster) else VM_PERMISSIONS
    return _("You lack the permission to %(permission)s on %(object)s; ask its administrator.") % {
        "permission": names[perm],
        "object": obj,
    }
