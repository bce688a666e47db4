"""Sharing a cluster or a VM: who holds which object permissions, and granting or revoking them.

Rows live in guardian's direct foreign key tables (ClusterUserPermission and friends), so each
list or change is one query per table. The caller checks that the actor may share the object
(`admin` on it); these functions do the change and write the audit log.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from access.permissions import permission_names
from audit.log import record
from audit.models import AuditAction


@dataclass(frozen=True)
class Grantee:
    """A user or a group that permissions are granted to."""

    obj: object

    @property
    def is_group(self):
        return isinstance(self.obj, Group)

    @property
    def kind(self):
        return "group" if self.is_group else "user"

    @property
    def key(self):
        """How forms name it: 'user:12' or 'group:3'."""
        return f"{self.kind}:{self.obj.pk}"

    @property
    def label(self):
        """How the audit log names it: 'user:alice' or 'group:staff'."""
        name = self.obj.name if self.is_group else self.obj.get_username()
        return f"{self.kind}:{name}"

    @property
    def name(self):
        return self.obj.name if self.is_group else self.obj.get_username()


@dataclass
class Holder:
    """One row of the sharing table: a grantee and the permissions it holds on the object."""

    grantee: Grantee
    perms: set = field(default_factory=set)


def _tables(obj):
    """Guardian's direct foreign key tables of `obj`'s model (user rows, group rows)."""
    return get_user_obj_perms_model(obj), get_group_obj_perms_model(obj)


def _rows(obj, grantee):
    user_table, group_table = _tables(obj)
    if grantee.is_group:
        return group_table.objects.filter(content_object=obj, group=grantee.obj)
    return user_table.objects.filter(content_object=obj, user=grantee.obj)


def _ordered(obj, perms):
    return [name for name in permission_names(obj) if name in perms]


def holders(obj) -> list[Holder]:
    """Every user, then every group, holding a permission on `obj`, by name (two queries)."""
    user_table, group_table = _tables(obj)
    names = list(permission_names(obj))
    result: list[Holder] = []
    for table, related in ((user_table, "user"), (group_table, "group")):
        rows = (
            table.objects.filter(content_object=obj, permission__codename__in=names)
            .select_related(related, "permission")
            .order_by(f"{related}__{'username' if related == 'user' else 'name'}")
        )
        by_grantee: dict[int, Holder] = {}
        for row in rows:
            grantee_obj = getattr(row, related)
            holder = by_grantee.setdefault(grantee_obj.pk, Holder(Grantee(grantee_obj)))
            holder.perms.add(row.permission.codename)
        result.extend(by_grantee.values())
    return result


def held(obj, grantee) -> set[str]:
    """The permissions `grantee` holds directly on `obj` (not through ownership or groups)."""
    names = list(permission_names(obj))
    return set(
        _rows(obj, grantee)
        .filter(permission__codename__in=names)
        .values_list("permission__codename", flat=True)
    )


def _check(obj, perms):
    unknown = set(perms) - set(permission_names(obj))
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not permissions on {type(obj).__name__}")


def _grant(actor, obj, grantee, perms):
    added = set(perms) - held(obj, grantee)
    if not added:
        return []
    user_table, group_table = _tables(obj)
    content_type = ContentType.objects.get_for_model(obj)
    permissions = Permission.objects.filter(content_type=content_type, codename__in=added)
    table, related = (group_table, "group") if grantee.is_group else (user_table, "user")
    table.objects.bulk_create(
        [table(content_object=obj, permission=p, **{related: grantee.obj}) for p in permissions],
        ignore_conflicts=True,
    )
    added = _ordered(obj, added)
    record(actor, AuditAction.PERMISSION_GRANT, obj, grantee=grantee.label, permissions=added)
    return added


def _revoke(actor, obj, grantee, perms):
    removed = held(obj, grantee) & set(perms)
    if not removed:
        return []
    _rows(obj, grantee).filter(permission__codename__in=removed).delete()
    removed = _ordered(obj, removed)
    record(actor, AuditAction.PERMISSION_REVOKE, obj, grantee=grantee.label, permissions=removed)
    return removed


@transaction.atomic
def grant(actor, obj, grantee, perms) -> list[str]:
    """Give `grantee` the permissions `perms` on `obj`; return those it did not hold yet."""
    _check(obj, perms)
    return _grant(actor, obj, grantee, perms)


@transaction.atomic
def revoke(actor, obj, grantee, perms=None) -> list[str]:
    """Take `perms` (all when None) on `obj` from `grantee`; return those it held."""
    perms = permission_names(obj) if perms is None else perms
    _check(obj, perms)
    return _revoke(actor, obj, grantee, perms)


@transaction.atomic
def set_permissions(actor, obj, grantee, perms) -> tuple[list[str], list[str]]:
    """Make `perms` exactly what `grantee` holds on `obj`; return (granted, revoked)."""
    _check(obj, perms)
    revoked = _revoke(actor, obj, grantee, set(permission_names(obj)) - set(perms))
    return _grant(actor, obj, grantee, perms), revoked


@dataclass(frozen=True)
class Candidates:
    """The active users and the groups an actor may grant permissions on an object to, or
    give a VM to."""

    users: QuerySet
    groups: QuerySet


# The cluster's relations whose rows name an owner (a user or a group): its VMs and quotas.
# access/ imports no project model (access/permissions.py); it follows the ORM's relations.
OWNER_RELATIONS = ("vms", "quotas")


def candidates_for(actor, obj) -> Candidates:
    """Who `actor` may pick on `obj`'s sharing or owner pages (`obj`: a cluster or a VM).

    A superuser may pick anyone. Anyone else picks among the people of the cluster: users and
    groups holding a permission on the cluster or on one of its VMs, owning one of its VMs or
    having a quota on it (and the members of those groups), and among their own groups and
    fellow members. Listing every account of the site to a cluster admin, or telling them
    whether a name exists, would show them people they have no business with.
    """
    users = get_user_model().objects.filter(is_active=True)
    if actor.is_superuser:
        return Candidates(users, Group.objects.all())
    cluster = obj if obj._meta.label_lower == "clusters.cluster" else obj.cluster
    user_table, group_table = _tables(cluster)
    user_q = Q(pk=actor.pk) | Q(
        pk__in=user_table.objects.filter(content_object=cluster).values("user")
    )
    group_q = Q(pk__in=actor.groups.values("pk")) | Q(
        pk__in=group_table.objects.filter(content_object=cluster).values("group")
    )
    vm_model = cluster._meta.get_field("vms").related_model
    vm_user_table, vm_group_table = _tables(vm_model)
    on_vms = {"content_object__cluster": cluster}
    user_q |= Q(pk__in=vm_user_table.objects.filter(**on_vms).values("user"))
    group_q |= Q(pk__in=vm_group_table.objects.filter(**on_vms).values("group"))
    for relation in OWNER_RELATIONS:
        rows = getattr(cluster, relation).all()
        user_q |= Q(pk__in=rows.filter(owner_user__isnull=False).values("owner_user"))
        group_q |= Q(pk__in=rows.filter(owner_group__isnull=False).values("owner_group"))
    groups = Group.objects.filter(group_q)
    users = users.filter(user_q | Q(groups__in=groups)).distinct()
    return Candidates(users, groups)
