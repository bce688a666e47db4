"""Cluster pages. They read only the database; host I/O is enqueued for workers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clusters.forms import ClusterForm, ImportForm
from clusters.jobs import enqueue_connection_test, enqueue_sync
from clusters.models import Cluster, Node
from clusters.overview import cluster_cards
from ganetiweb.audit import history_for
from ganetiweb.permissions import permissions_on, require
from vms.choices import JobKind
from vms.models import Job, VirtualMachine
from vms.services import OperationRefused, request_node_operation

VMS_ON_CLUSTER_PAGE = 50


def _visible_cluster(request, slug):
    return get_object_or_404(Cluster.objects.visible_to(request.user), slug=slug)


def _administered_cluster(request, slug):
    """404 for a cluster the user cannot see; 403 for one they see but may not change."""
    cluster = _visible_cluster(request, slug)
    require(request.user, cluster, "admin", _("Only the cluster's administrators may do this."))
    return cluster


@login_required
def cluster_list(request):
    cards = cluster_cards(Cluster.objects.visible_to(request.user))
    can_register = request.user.is_superuser
    return render(
        request, "clusters/cluster_list.html", {"cards": cards, "can_register": can_register}
    )


@login_required
def cluster_detail(request, slug):
    cluster = _visible_cluster(request, slug)
    card = cluster_cards([cluster])[0]
    visible_vms = VirtualMachine.objects.visible_to(request.user).filter(cluster=cluster)
    vms = visible_vms.filter(missing=False).for_listing()
    cluster_perms = permissions_on(request.user, cluster)
    context = {
        "cluster": cluster,
        "cluster_perms": cluster_perms,
        "card": card,
        "nodes": cluster.nodes.all(),
        "networks": cluster.networks.all(),
        "vms": vms[:VMS_ON_CLUSTER_PAGE],
        "vm_count": vms.count(),  # the VMs this user may see, as the list behind the link
        "is_admin": "admin" in cluster_perms,
        "unowned_count": visible_vms.filter(
            missing=False, owner_user=None, owner_group=None
        ).count(),
        "missing_count": visible_vms.filter(missing=True).count(),
        "history": history_for(cluster),
    }
    return render(request, "clusters/cluster_detail.html", context)


@login_required
def cluster_create(request):
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only administrators may register clusters."))
    form = ClusterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            cluster = form.save()
            enqueue_connection_test(cluster)
            enqueue_sync(cluster)
        messages.success(
            request, _("Cluster %(name)s registered; testing the connection.") % {"name": cluster}
        )
        return redirect(cluster)
    return render(request, "clusters/cluster_form.html", {"form": form})


@login_required
def cluster_edit(request, slug):
    cluster = _administered_cluster(request, slug)
    form = ClusterForm(request.POST or None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            cluster = form.save()
            enqueue_connection_test(cluster)
        messages.success(request, _("Settings saved; testing the connection."))
        return redirect(cluster)
    return render(request, "clusters/cluster_form.html", {"form": form, "cluster": cluster})


@login_required
@require_POST
def cluster_sync(request, slug):
    cluster = _administered_cluster(request, slug)
    with transaction.atomic():
        queued = enqueue_sync(cluster)
    if queued:
        messages.info(request, _("A sync of %(name)s is queued.") % {"name": cluster})
    else:
        messages.info(request, _("A sync of %(name)s is already under way.") % {"name": cluster})
    return redirect(cluster)


@login_required
@require_POST
def cluster_test_connection(request, slug):
    cluster = _administered_cluster(request, slug)
    with transaction.atomic():
        enqueue_connection_test(cluster)
    messages.info(request, _("Testing the connection to %(name)s.") % {"name": cluster})
    return redirect(cluster)


@login_required
@require_POST
def cluster_trust_certificate(request, slug):
    """Pin the fingerprint the cluster presented, which the admin has compared and confirms."""
    cluster = _administered_cluster(request, slug)
    fingerprint = request.POST.get("fingerprint", "")
    if not cluster.seen_fingerprint or fingerprint != cluster.seen_fingerprint:
        messages.error(request, _("The certificate changed meanwhile; test the connection again."))
        return redirect(cluster)
    with transaction.atomic():
        Cluster.objects.filter(pk=cluster.pk).update(
            pinned_fingerprint=fingerprint, seen_fingerprint="", last_sync_error=""
        )
        enqueue_connection_test(cluster)
        enqueue_sync(cluster)
    messages.success(request, _("Certificate trusted; syncing the cluster."))
    return redirect(cluster)


@login_required
def cluster_import(request, slug):
    """VMs found on the cluster without an owner, and VMs gone from it."""
    cluster = _administered_cluster(request, slug)
    unowned = list(
        cluster.vms.filter(missing=False, owner_user=None, owner_group=None).for_listing()
    )
    missing = list(cluster.vms.filter(missing=True).for_listing())
    form = ImportForm(request.POST or None, unowned=unowned, missing=missing)
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
def node_detail(request, slug, name):
    cluster = _visible_cluster(request, slug)
    node = get_object_or_404(Node, cluster=cluster, name=name)
    vms = VirtualMachine.objects.visible_to(request.user).filter(cluster=cluster, missing=False)
    vms = vms.for_listing()
    # The JSON text match narrows the rows; the exact check drops look-alike names.
    maybe_secondary = vms.filter(secondary_nodes__icontains=f'"{node.name}"')
    context = {
        "cluster": cluster,
        "node": node,
        "primary_vms": vms.filter(primary_node=node),
        "secondary_vms": [vm for vm in maybe_secondary if node.name in vm.secondary_nodes],
        "is_admin": "admin" in permissions_on(request.user, cluster),
        "jobs": Job.objects.filter(node=node).select_related("requested_by")[:10],
    }
    return render(request, "clusters/node_detail.html", context)


NODE_ACTIONS = {
    "offline": (JobKind.NODE_ROLE, {"role": "offline"}),
    "drain": (JobKind.NODE_ROLE, {"role": "drained"}),
    "online": (JobKind.NODE_ROLE, {"role": "regular"}),
    "migrate": (JobKind.NODE_MIGRATE, {}),
    "evacuate": (JobKind.NODE_EVACUATE, {}),
}


@login_required
@require_POST
def node_action(request, slug, name, action):
    """An admin's operation on a node: change its role, or move its VMs away."""
    if action not in NODE_ACTIONS:
        raise Http404
    cluster = _administered_cluster(request, slug)
    node = get_object_or_404(Node, cluster=cluster, name=name)
    kind, params = NODE_ACTIONS[action]
    try:
        job = request_node_operation(node, kind, request.user, **params)
    except OperationRefused as refused:
        messages.error(request, str(refused))
        return redirect(node)
    return redirect(job)
