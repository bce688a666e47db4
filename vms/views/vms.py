"""VM pages; they read only the database."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from access.permissions import get_for_user_or_404, permissions_on
from access.views import sharing_page
from audit.log import history_for
from jobs.models import Job
from vms import health, operations, services
from vms.forms.filters import VMFilterForm
from vms.models import VirtualMachine

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


def _vm(request, cluster_slug, name, perm=None, message=None):
    """The VM named in the URL: 404 unless the user sees it, 403 without `perm`."""
    vms = VirtualMachine.objects.for_listing()
    return get_for_user_or_404(
        vms, request.user, perm, message, cluster__slug=cluster_slug, name=name
    )


@login_required
def vm_detail(request, cluster_slug, name):
    vm = _vm(request, cluster_slug, name)
    vm_perms = permissions_on(request.user, vm)
    context = {
        "vm": vm,
        "vm_perms": vm_perms,
        # The buttons: the declared operations that make sense now and that the user holds.
        "operations": [op for op in operations.available_for(vm) if op.permission in vm_perms],
        "problems": health.vm_problems(vm, request.user),
        "jobs": Job.objects.filter(vm=vm).select_related("requested_by")[:10],
        "busy": Job.objects.filter(vm=vm).unfinished().exists(),
        "history": history_for(vm),
        # Giving the VM away is for its cluster's administrators (vms/views/owner.py).
        "can_change_owner": (
            "admin" in vm_perms and "admin" in permissions_on(request.user, vm.cluster)
        ),
    }
    return render(request, "vms/vm_detail.html", context)


@login_required
def vm_action(request, cluster_slug, name, action):
    """Ask for one operation on a VM: a form where it has options, then a job."""
    operation = operations.by_slug(action)
    if operation is None:
        raise Http404
    vm = _vm(request, cluster_slug, name, operation.permission)
    # Bound on any POST: start and force off have no fields, so their POST may be empty.
    form = operation.form(request.POST if request.method == "POST" else None, vm=vm)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.request_vm_operation(vm, operation.kind, request.user, **form.params())
        except services.OperationRefused as refused:
            messages.error(request, str(refused))
            return redirect(vm)
        return redirect(job)
    context = {"vm": vm, "form": form, "action": action, "operation": operation}
    return render(request, "vms/vm_action.html", context)


@login_required
def vm_permissions(request, cluster_slug, name):
    """Who holds what on the VM; its owner and administrators grant and revoke."""
    message = _("Only the VM's owner and administrators may share it.")
    vm = _vm(request, cluster_slug, name, "admin", message)
    return sharing_page(request, vm, reverse("vms:permissions", args=[vm.cluster.slug, vm.name]))
