"""Quota pages: an owner's usage against their limits, and the admins' quota table."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.permissions import get_for_user_or_404
from clusters.models import Cluster
from vms import approvals, quotas
from vms.models import Quota, VirtualMachine

NAMES = {
    "memory": gettext_lazy("Memory"),
    "disk": gettext_lazy("Disk"),
    "vcpus": gettext_lazy("vCPUs"),
    "vms": gettext_lazy("VMs"),
}


def usage_rows(cluster, owner: dict):
    """[(label, used, limit, unit)] for the four limits of one owner on one cluster."""
    used = quotas.usage_of(cluster, owner)
    limits = quotas.limits_for(cluster, owner)
    return [
        {
            "name": NAMES[name],
            "used": getattr(used, name),
            "limit": getattr(limits, name),
            "unit": "mib" if name in ("memory", "disk") else "count",
        }
        for name in ("memory", "disk", "vcpus", "vms")
    ]


def quota_rows(cluster, owners):
    """Usage against limits for each (label, owner ids) given, for the create form."""
    return [{"owner": label, "rows": usage_rows(cluster, owner)} for label, owner in owners]


def my_quotas(user, clusters):
    """The user's own quota on each cluster where they may ask for VMs, for the dashboard."""
    owner = {"user": user.pk}
    return [{"cluster": cluster, "rows": usage_rows(cluster, owner)} for cluster in clusters]


class QuotaForm(forms.Form):
    use_default = forms.BooleanField(
        label=gettext_lazy("Use the cluster's default"), required=False
    )
    memory = forms.IntegerField(label=gettext_lazy("Memory (MiB)"), min_value=0, required=False)
    disk = forms.IntegerField(label=gettext_lazy("Disk (MiB)"), min_value=0, required=False)
    vcpus = forms.IntegerField(label=gettext_lazy("vCPUs"), min_value=0, required=False)
    vms = forms.IntegerField(label=gettext_lazy("VMs"), min_value=0, required=False)

    def __init__(self, *args, default=False, **kwargs):
        super().__init__(*args, **kwargs)
        if default:  # the default row has nothing to fall back on
            del self.fields["use_default"]

    def limits(self):
        return {name: self.cleaned_data.get(name) for name in approvals.QUOTA_FIELDS}


def _owner_ids_on(cluster, field):
    """Ids of the owners (field "owner_user" or "owner_group") with a VM or a quota here."""
    ids = set()
    for model in (VirtualMachine, Quota):
        rows = model.objects.filter(cluster=cluster, **{f"{field}__isnull": False})
        ids |= set(rows.values_list(field, flat=True))
    return ids


def _owners_on(cluster):
    """Every owner with a VM or a quota row on the cluster: (label, owner ids, key)."""
    users = _owner_ids_on(cluster, "owner_user")
    groups = _owner_ids_on(cluster, "owner_group")
    rows = [
        (user.get_username(), {"user": user.pk}, f"user:{user.pk}")
        for user in get_user_model().objects.filter(pk__in=users).order_by("username")
    ]
    rows += [
        (_("group %(name)s") % {"name": group.name}, {"group": group.pk}, f"group:{group.pk}")
        for group in Group.objects.filter(pk__in=groups).order_by("name")
    ]
    return rows


@login_required
def cluster_quotas(request, slug):
    """The admins' view: the default quota, and each owner's usage and limits."""
    cluster = get_for_user_or_404(Cluster.objects.all(), request.user, "admin", slug=slug)
    default = Quota.objects.filter(cluster=cluster, owner_user=None, owner_group=None).first()
    form = QuotaForm(
        request.POST if request.method == "POST" else None,
        default=True,
        initial={name: getattr(default, name, None) for name in approvals.QUOTA_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        approvals.set_quota(request.user, cluster, None, form.limits())
        messages.success(
            request, _("The default quota of %(cluster)s is saved.") % {"cluster": cluster}
        )
        return redirect("vms:cluster_quotas", cluster.slug)
    owners = [
        {"label": label, "key": key, "rows": usage_rows(cluster, owner)}
        for label, owner, key in _owners_on(cluster)
    ]
    context = {"cluster": cluster, "form": form, "owners": owners}
    return render(request, "vms/cluster_quotas.html", context)


def _owner_from_key(key):
    kind, _sep, pk = key.partition(":")
    if kind not in ("user", "group") or not pk.isdigit():
        return None, None
    model = get_user_model() if kind == "user" else Group
    return model.objects.filter(pk=pk).first(), {kind: int(pk)}


@login_required
def owner_quota(request, slug, owner_key):
    """An admin sets one owner's quota on the cluster."""
    cluster = get_for_user_or_404(Cluster.objects.all(), request.user, "admin", slug=slug)
    owner, owner_ids = _owner_from_key(owner_key)
    if owner is None:
        return redirect("vms:cluster_quotas", cluster.slug)
    row = Quota.objects.filter(
        cluster=cluster, **{f"owner_{k}_id": v for k, v in owner_ids.items()}
    ).first()
    initial = {name: getattr(row, name, None) for name in approvals.QUOTA_FIELDS}
    initial["use_default"] = row.use_default if row else True
    form = QuotaForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        approvals.set_quota(
            request.user, cluster, owner_ids, form.limits(), form.cleaned_data["use_default"]
        )
        messages.success(request, _("The quota of %(owner)s is saved.") % {"owner": owner})
        return redirect("vms:cluster_quotas", cluster.slug)
    context = {
        "cluster": cluster,
        "owner": owner,
        "form": form,
        "rows": usage_rows(cluster, owner_ids),
    }
    return render(request, "vms/owner_quota.html", context)
