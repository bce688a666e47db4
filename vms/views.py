"""VM pages; they read only the database."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from ganetiweb.audit import history_for
from ganetiweb.permissions import permissions_on, require
from vms import services
from vms.action_forms import (
    ActionForm,
    DeleteForm,
    ModifyForm,
    MoveForm,
    RebootForm,
    ReinstallForm,
    RenameForm,
    ShutdownForm,
)
from vms.choices import JobKind
from vms.forms import VMFilterForm
from vms.models import Job, VirtualMachine

PAGE_SIZE = 50


@login_required
def vm_list(request):
    form = VMFilterForm(request.GET or None, user=request.user)
    vms = VirtualMachine.objects.visible_to(request.user).for_listing()
    vms = form.apply(vms) if request.GET else vms.filter(missing=False)
    page = Paginator(vms.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "vms/vm_list.html", context)


@login_required
def vm_detail(request, cluster_slug, name):
    vm = get_object_or_404(
        VirtualMachine.objects.visible_to(request.user).for_listing(),
        cluster__slug=cluster_slug,
        name=name,
    )
    vm_perms = permissions_on(request.user, vm)
    actions = [
        kind for kind in services.available_actions(vm) if services.PERMISSION_FOR[kind] in vm_perms
    ]
    context = {
        "vm": vm,
        "vm_perms": vm_perms,
        "actions": actions,
        "jobs": Job.objects.filter(vm=vm).select_related("requested_by")[:10],
        "busy": Job.objects.filter(vm=vm).unfinished().exists(),
        "history": history_for(vm),
        # Giving the VM away is for its cluster's administrators (vms/owner_views.py).
        "can_change_owner": (
            "admin" in vm_perms and "admin" in permissions_on(request.user, vm.cluster)
        ),
    }
    return render(request, "vms/vm_detail.html", context)


ACTIONS = {
    "start": (JobKind.START, ActionForm),
    "shutdown": (JobKind.SHUTDOWN, ShutdownForm),
    "force-off": (JobKind.FORCE_OFF, ActionForm),
    "reboot": (JobKind.REBOOT, RebootForm),
    "migrate": (JobKind.MIGRATE, MoveForm),
    "failover": (JobKind.FAILOVER, MoveForm),
    "modify": (JobKind.MODIFY, ModifyForm),
    "rename": (JobKind.RENAME, RenameForm),
    "reinstall": (JobKind.REINSTALL, ReinstallForm),
    "delete": (JobKind.DELETE, DeleteForm),
}


@login_required
def vm_action(request, cluster_slug, name, action):
    """Ask for one operation on a VM: a form where it has options, then a job."""
    if action not in ACTIONS:
        raise Http404
    kind, form_class = ACTIONS[action]
    vm = get_object_or_404(
        VirtualMachine.objects.visible_to(request.user).for_listing(),
        cluster__slug=cluster_slug,
        name=name,
    )
    require(request.user, vm, services.PERMISSION_FOR[kind])
    # Bound on any POST: start and force off have no fields, so their POST may be empty.
    form = form_class(request.POST if request.method == "POST" else None, vm=vm)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.request_vm_operation(vm, kind, request.user, **form.params())
        except services.OperationRefused as refused:
            messages.error(request, str(refused))
            return redirect(vm)
        return redirect(job)
    context = {"vm": vm, "form": form, "action": action, "kind": JobKind(kind)}
    return render(request, "vms/vm_action.html", context)
