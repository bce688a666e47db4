"""The sharing pages of clusters and VMs: their administrators grant and revoke permissions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from clusters.models import Cluster
from ganetiweb import sharing
from ganetiweb.audit import history_for
from ganetiweb.models import AuditAction
from ganetiweb.permissions import require
from ganetiweb.sharing_forms import GrantForm, HolderForm
from vms.models import VirtualMachine


@login_required
def cluster_permissions(request, slug):
    cluster = get_object_or_404(Cluster.objects.visible_to(request.user), slug=slug)
    require(request.user, cluster, "admin", _("Only the cluster's administrators may share it."))
    url = reverse("clusters:permissions", args=[cluster.slug])
    return _sharing_page(request, cluster, url)


@login_required
def vm_permissions(request, cluster_slug, name):
    vms = VirtualMachine.objects.visible_to(request.user).for_listing()
    vm = get_object_or_404(vms, cluster__slug=cluster_slug, name=name)
    require(request.user, vm, "admin", _("Only the VM's owner and administrators may share it."))
    url = reverse("vms:permissions", args=[vm.cluster.slug, vm.name])
    return _sharing_page(request, vm, url)


def _sharing_page(request, obj, url):
    """List who holds what on `obj`; on POST grant, change or revoke, then come back."""
    holders = sharing.holders(obj)
    action = request.POST.get("action") if request.method == "POST" else None
    grant_form = GrantForm(request.POST if action == "grant" else None, obj=obj)
    if action == "grant" and grant_form.is_valid():
        data = grant_form.cleaned_data
        added = sharing.grant(request.user, obj, data["grantee"], data["perms"])
        _tell(request, data["grantee"], added, [])
        return redirect(url)
    if action in ("change", "revoke"):
        form = HolderForm(request.POST, obj=obj, holders=holders)
        if form.is_valid():
            grantee, perms = form.cleaned_data["grantee"], form.cleaned_data["perms"]
            if action == "revoke" or not perms:
                _tell(request, grantee, [], sharing.revoke(request.user, obj, grantee))
            else:
                _tell(request, grantee, *sharing.set_permissions(request.user, obj, grantee, perms))
        else:
            messages.error(request, _("That user or group holds nothing here any more."))
        return redirect(_page_after_change(request.user, obj, url))
    context = {
        "object": obj,
        "is_cluster": isinstance(obj, Cluster),
        "holders": holders,
        "columns": [
            (perm, sharing.SHORT_LABELS[perm], description)
            for perm, description in sharing.permission_names(obj).items()
        ],
        "grant_form": grant_form,
        "history": history_for(
            obj, limit=10, actions=[AuditAction.PERMISSION_GRANT, AuditAction.PERMISSION_REVOKE]
        ),
    }
    return render(request, "ganetiweb/sharing.html", context)


def _page_after_change(user, obj, url):
    """The sharing page again, unless the actor just gave up their own right to it."""
    objects = type(obj).objects
    if objects.visible_to(user, "admin").filter(pk=obj.pk).exists():
        return url
    if objects.visible_to(user).filter(pk=obj.pk).exists():
        return obj.get_absolute_url()
    return reverse("dashboard")


def _tell(request, grantee, granted, revoked):
    names = dict(sharing.SHORT_LABELS)
    if granted:
        messages.success(
            request,
            _("%(grantee)s now holds: %(permissions)s.")
            % {"grantee": grantee.name, "permissions": ", ".join(str(names[p]) for p in granted)},
        )
    if revoked:
        messages.success(
            request,
            _("%(grantee)s no longer holds: %(permissions)s.")
            % {"grantee": grantee.name, "permissions": ", ".join(str(names[p]) for p in revoked)},
        )
    if not granted and not revoked:
        messages.info(request, _("Nothing changed."))
