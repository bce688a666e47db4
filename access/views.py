"""The sharing page of a cluster or a VM: its administrators grant and revoke permissions."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from access import sharing
from access.forms import GrantForm, HolderForm
from access.permissions import SHORT_LABELS, permission_names
from audit.log import history_for
from audit.models import AuditAction


def sharing_page(request, obj, url):
    """List who holds what on `obj`; on POST grant, change or revoke, then come back.

    The caller has fetched `obj` through `get_for_user_or_404(..., "admin")`: the cluster's
    and the VM's views (clusters/views.py, vms/views/vms.py) wrap this page."""
    holders = sharing.holders(obj)
    action = request.POST.get("action") if request.method == "POST" else None
    grant_form = GrantForm(request.POST if action == "grant" else None, obj=obj, actor=request.user)
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
        "is_cluster": obj._meta.label_lower == "clusters.cluster",
        "holders": holders,
        "columns": [
            (perm, SHORT_LABELS[perm], description)
            for perm, description in permission_names(obj).items()
        ],
        "grant_form": grant_form,
        "history": history_for(
            obj, limit=10, actions=[AuditAction.PERMISSION_GRANT, AuditAction.PERMISSION_REVOKE]
        ),
    }
    return render(request, "access/sharing.html", context)


def _page_after_change(user, obj, url):
    """The sharing page again, unless the actor just gave up their own right to it."""
    objects = type(obj).objects
    if objects.visible_to(user, "admin").filter(pk=obj.pk).exists():
        return url
    if objects.visible_to(user).filter(pk=obj.pk).exists():
        return obj.get_absolute_url()
    return reverse("dashboard")


def _tell(request, grantee, granted, revoked):
    names = dict(SHORT_LABELS)
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
