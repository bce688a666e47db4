"""Giving a VM to another owner: a user, a group, or nobody.

The owner holds every permission on the VM by being its owner, so nothing is granted here.
The caller checks that the actor administers the VM's cluster.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy

from audit.log import record
from audit.models import AuditAction
from notifications.notify import notify
from vms.models import VirtualMachine


def owner_label(owner) -> str:
    """How the audit log names an owner: 'user:alice', 'group:staff', or '' for none."""
    if owner is None:
        return ""
    if isinstance(owner, Group):
        return f"group:{owner.name}"
    return f"user:{owner.get_username()}"


@transaction.atomic
def change_owner(actor, vm, new_owner) -> bool:
    """Make `new_owner` (a User, a Group or None) own `vm`; return whether anything changed."""
    # Locked so that two admins changing the owner at once leave one coherent audit trail.
    locked = (
        VirtualMachine.objects.select_for_update()
        .select_related("owner_user", "owner_group")
        .get(pk=vm.pk)
    )
    old_owner = locked.owner
    if old_owner == new_owner:
        return False
    is_group = isinstance(new_owner, Group)
    locked.owner_group = new_owner if is_group else None
    locked.owner_user = None if is_group or new_owner is None else new_owner
    locked.save(update_fields=["owner_user", "owner_group"])
    vm.owner_user, vm.owner_group = locked.owner_user, locked.owner_group
    record(
        actor,
        AuditAction.OWNER_CHANGE,
        vm,
        old=owner_label(old_owner),
        new=owner_label(new_owner),
    )
    _tell_new_owner(vm, new_owner)
    return True


def _tell_new_owner(vm, new_owner):
    names = {"vm": vm.name, "cluster": vm.cluster.name}
    if new_owner is None:
        return
    if isinstance(new_owner, Group):
        users = new_owner.user_set.filter(is_active=True)
        message = gettext_lazy("Your group %(group)s now owns VM %(vm)s on %(cluster)s.")
        names["group"] = new_owner.name
    else:
        users = [new_owner]
        message = gettext_lazy("You now own VM %(vm)s on %(cluster)s.")
    notify(users, message, names, vm.get_absolute_url())
