"""A VM's owner page: the cluster's administrators give the VM to a user or a group."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from access.permissions import require
from vms import quotas
from vms.forms.owner import OwnerForm
from vms.models import VirtualMachine
from vms.ownership import change_owner


@login_required
def vm_owner(request, cluster_slug, name):
    vms = VirtualMachine.objects.visible_to(request.user).for_listing()
    vm = get_object_or_404(vms, cluster__slug=cluster_slug, name=name)
    require(
        request.user,
        vm.cluster,
        "admin",
        _("Only the administrators of cluster %(cluster)s may change a VM's owner.")
        % {"cluster": vm.cluster},
    )
    form = OwnerForm(
        request.POST or None, actor=request.user, vm=vm, initial={"owner": _owner_key(vm)}
    )
    if request.method == "POST" and form.is_valid():
        new_owner = form.cleaned_data["owner"]
        if change_owner(request.user, vm, new_owner):
            if new_owner is None:
                messages.success(request, _("VM %(vm)s has no owner now.") % {"vm": vm.name})
            else:
                messages.success(
                    request,
                    _("VM %(vm)s now belongs to %(owner)s.") % {"vm": vm.name, "owner": new_owner},
                )
                _warn_if_over_quota(request, vm, new_owner)
        else:
            messages.info(request, _("Nothing changed."))
        return redirect(vm)
    return render(request, "vms/vm_owner.html", {"vm": vm, "form": form})


def _warn_if_over_quota(request, vm, new_owner):
    """An admin may give a VM beyond the new owner's quota; say so, as an approval would."""
    problems = quotas.over_quota(vm.cluster, vm.owner_ids)
    if problems:
        messages.warning(
            request,
            _("%(owner)s is now over the quota on %(cluster)s: %(problems)s.")
            % {"owner": new_owner, "cluster": vm.cluster, "problems": "; ".join(problems)},
        )


def _owner_key(vm):
    if vm.owner_group_id:
        return f"group:{vm.owner_group_id}"
    if vm.owner_user_id:
        return f"user:{vm.owner_user_id}"
    return ""
