"""Creating a VM: choose a cluster, fill the form (or a template), then a job does it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from access.permissions import get_for_user_or_404
from clusters.backends.base import NicSpec, VMSpec
from clusters.models import Cluster
from vms import approvals, services
from vms.forms.create import REPLICATED, CreateVMForm, DiskFormSet, NicFormSet
from vms.models import VMRequest, VMTemplate
from vms.nics import NicRules
from vms.views.quotas import quota_rows


def _template_initial(cluster, request):
    """Form data from a VM template chosen with ?template=ID; no template for anything else
    (at most 18 digits: a larger number overflows SQLite's integers, and no row has it)."""
    template_id = request.GET.get("template", "")
    if not (template_id.isascii() and template_id.isdigit() and len(template_id) <= 18):
        return None, [], []
    template = VMTemplate.objects.filter(cluster=cluster, pk=int(template_id)).first()
    if template is None:
        return None, [], []
    initial = {
        "vcpus": template.vcpus,
        "memory": template.memory,
        "disk_template": template.disk_template,
        "os": template.os,
    }
    disks = [{"size": size} for size in template.disk_sizes]
    return initial, disks, list(template.nics)


@login_required
def vm_create_start(request):
    clusters = Cluster.objects.visible_to(request.user, "request_vm")
    return render(request, "vms/vm_create_start.html", {"clusters": clusters})


@login_required
def vm_create(request, cluster_slug):
    cluster = get_for_user_or_404(
        Cluster.objects.all(), request.user, "request_vm", slug=cluster_slug
    )
    initial, disk_initial, nic_initial = _template_initial(cluster, request)
    data = request.POST or None
    form = CreateVMForm(data, cluster=cluster, user=request.user, initial=initial)
    disks = DiskFormSet(data, prefix="disks", initial=disk_initial)
    rules = NicRules(cluster)
    nics = NicFormSet(data, prefix="nics", initial=nic_initial, form_kwargs={"rules": rules})
    if request.method == "POST" and form.is_valid() & disks.is_valid() & nics.is_valid():
        sizes = [d["size"] for d in disks.cleaned_data if d and not d.get("DELETE")]
        # A NIC row left empty is a NIC on the cluster's default network settings.
        nic_specs = [NicSpec(**nic) for nic in nics.cleaned_data]
        form.check_limits(sizes, len(nic_specs))
        if form.is_valid():
            outcome = _create(request, form, cluster, sizes, nic_specs)
            if outcome is not None:
                return redirect(outcome)
    context = {
        "cluster": cluster,
        "quota_rows": quota_rows(cluster, form.owner_choices()),
        "form": form,
        "disks": disks,
        "nics": nics,
        "templates": cluster.vm_templates.all(),
    }
    return render(request, "vms/vm_create.html", context)


def _create(request, form, cluster, sizes, nic_specs):
    data = form.cleaned_data
    primary, uri, iallocator = form.placement_for(data["memory"], sum(sizes))
    secondary = data.get("secondary_node", "") if data["disk_template"] in REPLICATED else ""
    spec = VMSpec(
        name=data["name"],
        memory=data["memory"],
        vcpus=data["vcpus"],
        disk_template=data["disk_template"],
        disks=sizes,
        nics=nic_specs,
        os=data.get("os", ""),
        primary_node=primary,
        secondary_node=secondary if primary else "",
        iallocator=iallocator,
        primary_uri=uri,
        start=data["start"],
    )
    try:
        outcome = approvals.submit_vm_creation(cluster, request.user, spec, form.owner_ids())
    except services.OperationRefused as refused:
        messages.error(request, str(refused))
        return None
    if isinstance(outcome, VMRequest):
        messages.info(
            request,
            _("%(reason)s Your request for %(name)s waits for an administrator.")
            % {"reason": outcome.reason, "name": spec.name},
        )
    return outcome
