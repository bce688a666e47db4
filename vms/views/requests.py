"""Request pages: the admins' queue, one request with its decision, asking for more quota."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.permissions import get_for_user_or_404, permissions_on, require
from clusters.models import Cluster
from vms import approvals, quotas, services
from vms.forms.create import owner_choices_for
from vms.forms.requests import ApproveQuotaForm, ApproveVMForm, QuotaRequestForm, RefuseForm
from vms.models import QuotaRequest, RequestStatus, VMRequest
from vms.views.quotas import NAMES, usage_rows

KINDS = {"vm": VMRequest, "quota": QuotaRequest}


def _visible(request, kind, pk):
    queryset = KINDS[kind].objects.visible_to(request.user)
    return get_object_or_404(
        queryset.select_related("cluster", "requested_by", "owner_user", "owner_group"), pk=pk
    )


@login_required
def request_list(request):
    """Pending requests waiting for this admin, and the requests this user made."""
    vm_pending, quota_pending = approvals.pending_for(request.user)
    related = ("cluster", "requested_by", "owner_user", "owner_group", "decided_by")
    context = {
        "vm_pending": vm_pending.select_related(*related),
        "quota_pending": quota_pending.select_related(*related),
        "my_vm_requests": VMRequest.objects.filter(requested_by=request.user).select_related(
            *related
        )[:50],
        "my_quota_requests": QuotaRequest.objects.filter(requested_by=request.user).select_related(
            *related
        )[:50],
    }
    return render(request, "vms/request_list.html", context)


def quota_change_rows(item: QuotaRequest):
    """For each limit: the owner's now, the one asked for, and the one approving gives."""
    current = quotas.limits_for(item.cluster, item.owner_ids)
    result = approvals.resulting_limits(item)
    return [
        {
            "key": name,
            "name": NAMES[name],
            "current": getattr(current, name),
            "asked": getattr(item, name),
            "result": getattr(result, name),
            "unit": "mib" if name in ("memory", "disk") else "count",
        }
        for name in approvals.QUOTA_FIELDS
    ]


def _detail_context(request, item, kind, approve_form=None):
    is_admin = "admin" in permissions_on(request.user, item.cluster)
    pending = item.status == RequestStatus.PENDING
    context = {
        "item": item,
        "kind": kind,
        "is_admin": is_admin,
        "is_requester": item.requested_by_id == request.user.pk,
        "refuse_form": RefuseForm(),
        "usage": usage_rows(item.cluster, item.owner_ids),
        "approve_form": approve_form,
    }
    if kind == "quota" and pending:
        context["quota_changes"] = quota_change_rows(item)
    if is_admin and pending and approve_form is None:
        if kind == "vm":
            context["approve_form"] = ApproveVMForm(vm_request=item)
        else:
            context["approve_form"] = ApproveQuotaForm(quota_request=item)
    return context


@login_required
def request_detail(request, kind, pk):
    item = _visible(request, kind, pk)
    return render(request, "vms/request_detail.html", _detail_context(request, item, kind))


@login_required
@require_POST
def request_approve(request, kind, pk):
    item = _visible(request, kind, pk)
    require(request.user, item.cluster, "admin")
    if item.status != RequestStatus.PENDING:
        messages.error(
            request,
            _("This request is already %(status)s.") % {"status": item.get_status_display()},
        )
        return redirect(item)
    if kind == "vm":
        form = ApproveVMForm(request.POST, vm_request=item)
    else:
        form = ApproveQuotaForm(request.POST, quota_request=item)
    if not form.is_valid():
        context = _detail_context(request, item, kind, approve_form=form)
        return render(request, "vms/request_detail.html", context)
    try:
        if kind == "vm":
            job = approvals.approve_vm_request(item, request.user, **form.changes())
            messages.success(request, _("Approved; the VM is being created."))
            return redirect(job)
        approvals.approve_quota_request(item, request.user, **form.limits())
        messages.success(request, _("Approved; the quota is raised."))
    except (approvals.RequestClosed, services.OperationRefused) as refused:
        messages.error(request, str(refused))
    return redirect(item)


@login_required
@require_POST
def request_refuse(request, kind, pk):
    item = _visible(request, kind, pk)
    require(request.user, item.cluster, "admin")
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the request is refused."))
        return redirect(item)
    try:
        approvals.refuse(item, request.user, form.cleaned_data["reason"])
        messages.success(request, _("Refused; the requester is told why."))
    except approvals.RequestClosed as closed:
        messages.error(request, str(closed))
    return redirect(item)


@login_required
@require_POST
def request_withdraw(request, kind, pk):
    item = _visible(request, kind, pk)
    if item.requested_by_id != request.user.pk:
        raise PermissionDenied(_("Only the person who asked may withdraw a request."))
    try:
        approvals.withdraw(item, request.user)
        messages.success(request, _("Your request is withdrawn."))
    except approvals.RequestClosed as closed:
        messages.error(request, str(closed))
    return redirect(item)


@login_required
def quota_request_new(request, cluster_slug):
    """Ask for a larger quota on a cluster where one may create or request VMs."""
    cluster = get_for_user_or_404(
        Cluster.objects.all(), request.user, "request_vm", slug=cluster_slug
    )
    form = QuotaRequestForm(request.POST or None, owners=owner_choices_for(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item = approvals.submit_quota_request(
            cluster,
            request.user,
            form.owner_ids(),
            {name: data.get(name) for name in approvals.QUOTA_FIELDS},
            data["message"],
        )
        messages.success(request, _("Your request is sent to the cluster's administrators."))
        return redirect(item)
    usage = usage_rows(cluster, {"user": request.user.pk})
    context = {"cluster": cluster, "form": form, "usage": usage}
    return render(request, "vms/quota_request_form.html", context)
