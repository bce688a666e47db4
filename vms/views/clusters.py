"""Pool views of clusters and nodes: they show VMs, so they live on the VM side.

The URLs are in the `clusters` namespace with the settings pages of clusters/views.py
(ganetiweb/urls.py puts both under /clusters/).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from access.permissions import get_for_user_or_404, permissions_on
from audit.log import history_for
from clusters.models import Cluster, Node
from clusters.views import administered_cluster
from jobs.models import Job
from vms import health
from vms.models import VirtualMachine
from vms.operations import JobKind
from vms.overview import cluster_cards
from vms.services import OperationRefused, request_node_operation

VMS_ON_CLUSTER_PAGE = 50


@login_required
def cluster_list(request):
    cards = cluster_cards(Cluster.objects.visible_to(request.user))
    can_register = request.user.is_superuser
    return render(
        request, "clusters/cluster_list.html", {"cards": cards, "can_register": can_register}
    )


@login_required
def cluster_detail(request, slug):
    cluster = get_for_user_or_404(Cluster.objects.all(), request.user, slug=slug)
    card = cluster_cards([cluster])[0]
    visible_vms = VirtualMachine.objects.visible_to(request.user).filter(cluster=cluster)
    vms = visible_vms.filter(missing=False).for_listing()
    cluster_perms = permissions_on(request.user, cluster)
    is_admin = "admin" in cluster_perms
    nodes = list(cluster.nodes.all())
    context = {
        "cluster": cluster,
        "cluster_perms": cluster_perms,
        "card": card,
        "problems": health.problems_of(cluster, request.user, nodes),
        "nodes": nodes,
        "networks": cluster.networks.all(),
        "vms": vms[:VMS_ON_CLUSTER_PAGE],
        "vm_count": vms.count(),  # the VMs this user may see, as the list behind the link
        "is_admin": is_admin,
        "unowned_count": visible_vms.filter(
            missing=False, owner_user=None, owner_group=None
        ).count(),
        "missing_count": visible_vms.filter(missing=True).count(),
        # The cluster's history tells of every owner's quotas and requests (a refusal's reason
        # included): for those who administer it, like the audit log.
        "history": history_for(cluster) if is_admin else None,
    }
    return render(request, "clusters/cluster_detail.html", context)


@login_required
def node_detail(request, slug, name):
    cluster = get_for_user_or_404(Cluster.objects.all(), request.user, slug=slug)
    node = get_object_or_404(Node, cluster=cluster, name=name)
    vms = VirtualMachine.objects.visible_to(request.user).filter(cluster=cluster, missing=False)
    vms = vms.for_listing()
    # The JSON text match narrows the rows; the exact check drops look-alike names.
    maybe_secondary = vms.filter(secondary_nodes__icontains=f'"{node.name}"')
    node.cluster = cluster
    context = {
        "cluster": cluster,
        "node": node,
        "problems": health.node_problems(node),
        "primary_vms": vms.filter(primary_node=node),
        "secondary_vms": [vm for vm in maybe_secondary if node.name in vm.secondary_nodes],
        "is_admin": "admin" in permissions_on(request.user, cluster),
        "jobs": Job.objects.filter(node=node).select_related("requested_by")[:10],
    }
    return render(request, "clusters/node_detail.html", context)


# The node page's buttons: each names an operation of vms/operations.py and its parameters.
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
    cluster = administered_cluster(request, slug)
    node = get_object_or_404(Node, cluster=cluster, name=name)
    kind, params = NODE_ACTIONS[action]
    try:
        job = request_node_operation(node, kind, request.user, **params)
    except OperationRefused as refused:
        messages.error(request, str(refused))
        return redirect(node)
    return redirect(job)
