"""The cluster settings pages: registering a cluster, its connection, its certificate, its
sharing, and sorting the VMs a sync found. The pages that show a cluster's VMs and nodes are
pool views in vms/views/clusters.py (they need VMs)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.permissions import get_for_user_or_404
from access.views import sharing_page
from audit.log import record
from audit.models import AuditAction
from clusters.forms import ClusterConnectionForm, ClusterDetailsForm, ClusterForm, ImportForm
from clusters.jobs import enqueue_connection_test, enqueue_sync, is_group_cluster
from clusters.models import Cluster


def administered_cluster(request, slug):
    """404 for a cluster the user cannot see; 403 for one they see but may not change."""
    return get_for_user_or_404(
        Cluster.objects.all(),
        request.user,
        "admin",
        _("Only the cluster's administrators may do this."),
        slug=slug,
    )


def connection_settings_cluster(request, slug):
    """404 for a cluster the user cannot see; 403 unless a superuser: where the workers connect
    and what they trust is not for a cluster's administrators to change."""
    cluster = administered_cluster(request, slug)
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only superusers may change a cluster's connection settings."))
    return cluster


def _save(form, user):
    """Save a settings form and audit what changed (secrets masked)."""
    cluster = form.save()
    if changes := form.changes():
        record(user, AuditAction.CLUSTER_CHANGE, cluster, changes=changes)
    return cluster


@login_required
def cluster_create(request):
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only administrators may register clusters."))
    form = ClusterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            cluster = _save(form, request.user)
            enqueue_connection_test(cluster, request.user)
            enqueue_sync(cluster)
        messages.success(
            request, _("Cluster %(name)s registered; testing the connection.") % {"name": cluster}
        )
        return redirect(cluster)
    return render(request, "clusters/cluster_form.html", {"form": form})


@login_required
def cluster_edit(request, slug):
    """The cluster's name and description, for its administrators."""
    cluster = administered_cluster(request, slug)
    form = ClusterDetailsForm(request.POST or None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            cluster = _save(form, request.user)
        messages.success(request, _("Settings saved."))
        return redirect(cluster)
    context = {"form": form, "cluster": cluster, "details": True}
    return render(request, "clusters/cluster_form.html", context)


@login_required
def cluster_connection(request, slug):
    """Where the workers connect and what they trust: superusers only."""
    cluster = connection_settings_cluster(request, slug)
    form = ClusterConnectionForm(request.POST or None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            cluster = _save(form, request.user)
            enqueue_connection_test(cluster, request.user)
        messages.success(request, _("Connection settings saved; testing the connection."))
        return redirect(cluster)
    return render(request, "clusters/cluster_form.html", {"form": form, "cluster": cluster})


@login_required
@require_POST
def cluster_sync(request, slug):
    cluster = administered_cluster(request, slug)
    if is_group_cluster(cluster):
        # Refused rather than run as the group's checks: those are the group's to start (from
        # its page), and clusters/ cannot reach courses/ (clusters.jobs.syncable says more).
        messages.error(
            request,
            _(
                "%(name)s is a student group's cluster: it is never synced. Its group runs "
                "the deployment checks from the group's page."
            )
            % {"name": cluster},
        )
        return redirect(cluster)
    with transaction.atomic():
        queued = enqueue_sync(cluster, request.user)
    if queued:
        messages.info(request, _("A sync of %(name)s is queued.") % {"name": cluster})
    else:
        messages.info(request, _("A sync of %(name)s is already under way.") % {"name": cluster})
    return redirect(cluster)


@login_required
@require_POST
def cluster_test_connection(request, slug):
    cluster = administered_cluster(request, slug)
    with transaction.atomic():
        enqueue_connection_test(cluster, request.user)
    messages.info(request, _("Testing the connection to %(name)s.") % {"name": cluster})
    return redirect(cluster)


@login_required
@require_POST
def cluster_trust_certificate(request, slug):
    """Pin the fingerprint the cluster presented, which a superuser has compared and confirms
    (what the workers trust is a connection setting)."""
    cluster = connection_settings_cluster(request, slug)
    fingerprint = request.POST.get("fingerprint", "")
    if not cluster.seen_fingerprint or fingerprint != cluster.seen_fingerprint:
        messages.error(request, _("The certificate changed meanwhile; test the connection again."))
        return redirect(cluster)
    with transaction.atomic():
        Cluster.objects.filter(pk=cluster.pk).update(
            pinned_fingerprint=fingerprint, seen_fingerprint="", last_sync_error=""
        )
        changes = {"pinned_fingerprint": [cluster.pinned_fingerprint, fingerprint]}
        record(request.user, AuditAction.CLUSTER_CHANGE, cluster, changes=changes)
        enqueue_connection_test(cluster, request.user)
        enqueue_sync(cluster)
    messages.success(request, _("Certificate trusted; syncing the cluster."))
    return redirect(cluster)


@login_required
def cluster_import(request, slug):
    """VMs found on the cluster without an owner, and VMs gone from it."""
    cluster = administered_cluster(request, slug)
    unowned = list(
        cluster.vms.filter(missing=False, owner_user=None, owner_group=None).for_listing()
    )
    missing = list(cluster.vms.filter(missing=True).for_listing())
    form = ImportForm(
        request.POST or None,
        actor=request.user,
        cluster=cluster,
        unowned=unowned,
        missing=missing,
    )
    if request.method == "POST" and form.is_valid():
        chosen = cluster.vms.filter(pk__in=form.cleaned_data["vms"])
        if form.cleaned_data["action"] == "assign":
            owner = form.cleaned_data["owner"]
            field = "owner_group" if isinstance(owner, Group) else "owner_user"
            count = chosen.update(**{field: owner})
            messages.success(
                request,
                _("%(count)d VM(s) now belong to %(owner)s.") % {"count": count, "owner": owner},
            )
        else:
            count, _details = chosen.delete()
            messages.success(request, _("%(count)d missing VM(s) forgotten.") % {"count": count})
        return redirect("clusters:import", cluster.slug)
    context = {"cluster": cluster, "form": form, "unowned": unowned, "missing": missing}
    return render(request, "clusters/cluster_import.html", context)


@login_required
def cluster_permissions(request, slug):
    """Who holds what on the cluster; its administrators grant and revoke."""
    cluster = get_for_user_or_404(
        Cluster.objects.all(),
        request.user,
        "admin",
        _("Only the cluster's administrators may share it."),
        slug=slug,
    )
    return sharing_page(request, cluster, reverse("clusters:permissions", args=[cluster.slug]))
