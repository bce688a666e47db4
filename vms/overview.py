"""Pool totals and per-cluster figures for the dashboard and the cluster pages.

A fixed number of grouped queries, whatever the number of clusters, nodes and VMs.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from clusters.choices import Health, NodeRole
from clusters.models import Cluster, Node
from vms.choices import ActualState, WantedState
from vms.models import VirtualMachine


@dataclass
class Capacity:
    memory_total: int = 0
    memory_free: int = 0
    disk_total: int = 0
    disk_free: int = 0
    cpus: int = 0
    vcpus: int = 0
    nodes: int = 0
    nodes_down: int = 0
    vms: int = 0
    vms_running: int = 0
    vms_troubled: int = 0

    @property
    def memory_used(self):
        return self.memory_total - self.memory_free

    @property
    def disk_used(self):
        return self.disk_total - self.disk_free

    def add(self, other: "Capacity"):
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ClusterCard:
    cluster: Cluster
    capacity: Capacity = field(default_factory=Capacity)

    @property
    def health(self):
        base = self.cluster.health
        if base != Health.HEALTHY:
            return base
        if self.capacity.nodes_down or self.capacity.vms_troubled:
            return Health.DEGRADED
        return Health.HEALTHY


def _node_figures(cluster_ids):
    down = Q(role__in=[NodeRole.OFFLINE, NodeRole.DRAINED]) | Q(missing=True)
    up = ~down
    rows = (
        Node.objects.filter(cluster_id__in=cluster_ids)
        .values("cluster_id")
        .annotate(
            memory_total=Sum("memory_total", filter=up, default=0),
            memory_free=Sum("memory_free", filter=up, default=0),
            disk_total=Sum("disk_total", filter=up, default=0),
            disk_free=Sum("disk_free", filter=up, default=0),
            cpus=Sum("cpus", filter=up, default=0),
            nodes=Count("pk"),
            nodes_down=Count("pk", filter=down),
        )
    )
    return {row.pop("cluster_id"): row for row in rows}


def _vm_figures(cluster_ids):
    # A VM is troubled when the cluster says error, or it should run and does not.
    troubled = Q(actual_state=ActualState.ERROR) | (
        Q(wanted_state=WantedState.UP) & ~Q(actual_state=ActualState.RUNNING)
    )
    rows = (
        VirtualMachine.objects.filter(cluster_id__in=cluster_ids, missing=False)
        .values("cluster_id")
        .annotate(
            vcpus=Sum("vcpus", default=0),
            vms=Count("pk"),
            vms_running=Count("pk", filter=Q(actual_state=ActualState.RUNNING)),
            vms_troubled=Count("pk", filter=troubled),
        )
    )
    return {row.pop("cluster_id"): row for row in rows}


def cluster_cards(clusters) -> list[ClusterCard]:
    clusters = list(clusters)
    ids = [c.pk for c in clusters]
    nodes, vms = _node_figures(ids), _vm_figures(ids)
    cards = []
    for cluster in clusters:
        capacity = Capacity(**nodes.get(cluster.pk, {}), **vms.get(cluster.pk, {}))
        cards.append(ClusterCard(cluster=cluster, capacity=capacity))
    return cards


def pool_overview(user):
    """The pool's totals over the clusters this user may see, and one card per cluster."""
    cards = cluster_cards(Cluster.objects.visible_to(user))
    total = Capacity()
    for card in cards:
        total.add(card.capacity)
    return total, cards
