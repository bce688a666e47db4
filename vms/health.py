"""Health with reasons: what is wrong with a cluster, a node or a VM, and why.

It needs clusters, nodes, VMs and jobs, so it lives in vms/. Everything comes from the
database (pages never talk to hosts), in a fixed number of queries whatever the size of the
pool. Each problem is one sentence with its reason, a severity, since when the database
knows of it, and a link to the page where an admin acts. vms/alerts.py tells the cluster's
admins when one appears and when it clears.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clusters.choices import NodeRole
from clusters.jobs import SYNC
from clusters.models import Cluster, Node
from jobs.models import Job, JobStatus
from vms.choices import ActualState, Severity, WantedState
from vms.models import KnownProblem, VirtualMachine

RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
FAILED_JOBS_WINDOW = timedelta(hours=24)

# The sentences are kept untranslated with their parameters (an alert's row keeps them too)
# and translated when read, so each reader, and each admin's e-mail, gets their language.
NODE_OFFLINE = gettext_noop("Node %(node)s is offline: its VMs cannot run there.")
NODE_DRAINED = gettext_noop("Node %(node)s is drained: no new VMs are placed on it.")
NODE_MISSING = gettext_noop(
    "Node %(node)s is not answering: the cluster did not list it at the last sync."
)
NODE_MEMORY = gettext_noop(
    "Node %(node)s uses %(percent)d%% of its memory, above the warning level of %(limit)d%%."
)
NODE_DISK = gettext_noop(
    "Node %(node)s uses %(percent)d%% of its disk, above the warning level of %(limit)d%%."
)
VM_ERROR = gettext_noop("VM %(vm)s is in error on the cluster.")
VM_STOPPED = gettext_noop("VM %(vm)s should be running but is stopped.")
VM_PAUSED = gettext_noop("VM %(vm)s should be running but is paused.")
VM_UNKNOWN = gettext_noop("VM %(vm)s should be running but the cluster does not report it so.")
VM_RUNNING = gettext_noop("VM %(vm)s should be stopped but is running.")
SYNC_FAILING = gettext_noop("The cluster cannot be read: %(error)s")
CLUSTER_FAILED_JOBS = gettext_noop("Jobs that failed in the last 24 hours: %(count)d.")
VM_FAILED_JOBS = gettext_noop("Jobs on VM %(vm)s that failed in the last 24 hours: %(count)d.")

OPEN_NODE = gettext_noop("Open the node")
OPEN_VM = gettext_noop("Open the VM")
SEE_FAILED_JOBS = gettext_noop("See the failed jobs")
CHECK_CONNECTION = gettext_noop("Check the connection")


def render(message: str, params: dict) -> str:
    """The sentence in the active language."""
    return gettext(message) % params


@dataclass
class Problem:
    key: str  # stable across checks: "node:12:offline"
    severity: str
    cluster: Cluster
    subject: object  # the cluster, node or VM it is about
    message: str  # untranslated, with %(name)s parameters
    params: dict
    url: str  # where an admin acts on it
    action: str  # the link's words, untranslated
    since: datetime | None = None

    @property
    def sentence(self) -> str:
        return render(self.message, self.params)

    @property
    def action_label(self) -> str:
        return gettext(self.action)

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def order(self):
        """Worst first; of two as bad, the older first."""
        since = self.since.timestamp() if self.since else float("inf")
        return (RANK[Severity(self.severity)], since, self.cluster.name, self.key)


# The scopes -----------------------------------------------------------------------------------
def problems_of(cluster, user=None, nodes=None) -> list[Problem]:
    """Everything wrong with one cluster, worst first; with `user`, only the VMs and jobs they
    may see. `nodes`: the cluster's nodes when the caller has them already."""
    return _collect([cluster], user, nodes)


def pool_problems(user, clusters=None) -> list[Problem]:
    """Everything wrong in the clusters this user may see (or `clusters`, already filtered
    so), worst first, for the dashboard."""
    if clusters is None:
        clusters = Cluster.objects.visible_to(user)
    return _collect(list(clusters), user)


def node_problems(node) -> list[Problem]:
    """The node's own problems: its role, whether it answers, its memory and disk use."""
    return _finish(_node_problems(node.cluster, node))


def vm_problems(vm, user=None) -> list[Problem]:
    """The VM's state against the wanted one, and its failed jobs (those `user` may see)."""
    problems = [] if vm.missing else _vm_problems(vm.cluster, vm)
    jobs = Job.objects.all() if user is None else Job.objects.visible_to(user)
    failed = _failed(jobs).filter(vm=vm).aggregate(count=Count("pk"), first=Min("finished_at"))
    if failed["count"]:
        url = f"{reverse('jobs:list')}?{urlencode({'vm': vm.pk, 'status': JobStatus.FAILED})}"
        problems.append(
            Problem(
                key=f"vm:{vm.pk}:failed_jobs",
                severity=Severity.WARNING,
                cluster=vm.cluster,
                subject=vm,
                message=VM_FAILED_JOBS,
                params={"vm": vm.name, "count": failed["count"]},
                url=url,
                action=SEE_FAILED_JOBS,
                since=failed["first"],
            )
        )
    return _finish(problems)


def _collect(clusters, user, nodes=None) -> list[Problem]:
    by_id = {cluster.pk: cluster for cluster in clusters}
    if not by_id:
        return []
    problems = []
    for cluster in clusters:
        problems += _sync_problems(cluster, user)
    if nodes is None:
        nodes = Node.objects.filter(cluster_id__in=by_id)
    for node in nodes:
        problems += _node_problems(by_id[node.cluster_id], node)
    vms = VirtualMachine.objects.all() if user is None else VirtualMachine.objects.visible_to(user)
    troubled = vms.filter(cluster_id__in=by_id, missing=False).filter(TROUBLED)
    for vm in troubled.only("pk", "name", "cluster_id", "wanted_state", "actual_state"):
        problems += _vm_problems(by_id[vm.cluster_id], vm)
    jobs = Job.objects.all() if user is None else Job.objects.visible_to(user)
    problems += _failed_jobs(by_id, jobs)
    problems += drbd_problems(clusters) + n_plus_one_problems(clusters)
    return _finish(problems)


def _finish(problems) -> list[Problem]:
    """Give each problem the time it was first seen (one query), and sort them worst first."""
    if problems:
        cluster_ids = {problem.cluster.pk for problem in problems}
        open_rows = KnownProblem.objects.filter(cluster_id__in=cluster_ids, cleared_at=None)
        first_seen = {
            (cluster_id, key): when
            for cluster_id, key, when in open_rows.values_list("cluster_id", "key", "first_seen")
        }
        for problem in problems:
            known = first_seen.get((problem.cluster.pk, problem.key))
            if known is not None and (problem.since is None or known < problem.since):
                problem.since = known
    return sorted(problems, key=lambda problem: problem.order)


# The reasons ----------------------------------------------------------------------------------
def _sync_problems(cluster, user) -> list[Problem]:
    if not cluster.last_sync_error:
        return []
    # Only superusers change where a cluster is reached; others act from the cluster's page.
    if user is not None and user.is_superuser:
        url = reverse("clusters:connection", args=[cluster.slug])
    else:
        url = cluster.get_absolute_url()
    return [
        Problem(
            key=f"cluster:{cluster.pk}:sync",
            severity=Severity.CRITICAL,
            cluster=cluster,
            subject=cluster,
            message=SYNC_FAILING,
            params={"error": cluster.last_sync_error},
            url=url,
            action=CHECK_CONNECTION,
            # The last failure; the first one, once the alerts have seen it (_finish).
            since=cluster.last_sync_error_at,
        )
    ]


def _node_problems(cluster, node) -> list[Problem]:
    def problem(reason, severity, message, **params):
        return Problem(
            key=f"node:{node.pk}:{reason}",
            severity=severity,
            cluster=cluster,
            subject=node,
            message=message,
            params={"node": node.name, **params},
            url=reverse("vms:node", args=[cluster.slug, node.name]),
            action=OPEN_NODE,
        )

    if node.missing:  # what else the database says of it is from before it went
        return [problem("missing", Severity.CRITICAL, NODE_MISSING)]
    problems = []
    if node.role == NodeRole.OFFLINE:
        problems.append(problem("offline", Severity.CRITICAL, NODE_OFFLINE))
    elif node.role == NodeRole.DRAINED:
        problems.append(problem("drained", Severity.WARNING, NODE_DRAINED))
    limits = (
        (
            "memory",
            node.memory_total,
            node.memory_free,
            cluster.memory_warning_percent,
            NODE_MEMORY,
        ),
        ("disk", node.disk_total, node.disk_free, cluster.disk_warning_percent, NODE_DISK),
    )
    for reason, total, free, limit, message in limits:
        if not total or free is None:
            continue
        percent = 100 * (total - free) // total
        if percent > limit:
            problems.append(
                problem(reason, Severity.WARNING, message, percent=percent, limit=limit)
            )
    return problems


# A VM whose actual state is not the wanted one, or in error: what _vm_problems words.
TROUBLED = (
    Q(actual_state=ActualState.ERROR)
    | (Q(wanted_state=WantedState.UP) & ~Q(actual_state=ActualState.RUNNING))
    | (~Q(wanted_state=WantedState.UP) & Q(actual_state=ActualState.RUNNING))
)


def _vm_problems(cluster, vm) -> list[Problem]:
    if vm.actual_state == ActualState.ERROR:
        severity, message = Severity.CRITICAL, VM_ERROR
    elif vm.wanted_state == WantedState.UP and vm.actual_state != ActualState.RUNNING:
        severity = Severity.WARNING
        message = {ActualState.STOPPED: VM_STOPPED, ActualState.PAUSED: VM_PAUSED}.get(
            vm.actual_state, VM_UNKNOWN
        )
    elif vm.wanted_state != WantedState.UP and vm.actual_state == ActualState.RUNNING:
        severity, message = Severity.INFO, VM_RUNNING
    else:
        return []
    return [
        Problem(
            key=f"vm:{vm.pk}:state",
            severity=severity,
            cluster=cluster,
            subject=vm,
            message=message,
            params={"vm": vm.name},
            url=reverse("vms:detail", args=[cluster.slug, vm.name]),
            action=OPEN_VM,
        )
    ]


def _failed(jobs):
    """Jobs that failed within the window; a failing sync is a problem of its own."""
    since = timezone.now() - FAILED_JOBS_WINDOW
    return jobs.filter(status=JobStatus.FAILED, finished_at__gte=since).exclude(kind=SYNC)


def _failed_jobs(by_id, jobs) -> list[Problem]:
    rows = (
        _failed(jobs.filter(cluster_id__in=by_id))
        .order_by()
        .values("cluster_id")
        .annotate(count=Count("pk"), first=Min("finished_at"))
    )
    problems = []
    for row in rows:
        cluster = by_id[row["cluster_id"]]
        query = urlencode({"cluster": cluster.slug, "status": JobStatus.FAILED})
        problems.append(
            Problem(
                key=f"cluster:{cluster.pk}:failed_jobs",
                severity=Severity.WARNING,
                cluster=cluster,
                subject=cluster,
                message=CLUSTER_FAILED_JOBS,
                params={"count": row["count"]},
                url=f"{reverse('jobs:list')}?{query}",
                action=SEE_FAILED_JOBS,
                since=row["first"],
            )
        )
    return problems


# Hooks for what the database does not hold yet ------------------------------------------------
def drbd_problems(clusters) -> list[Problem]:
    """DRBD disks that Ganeti's monitoring daemon (mond) reports degraded.

    Empty until the sampling of issue 15 (part 1: mond's /1/report/all) stores the DRBD
    state; a guess here would be worse than nothing.
    """
    return []


def n_plus_one_problems(clusters) -> list[Problem]:
    """Clusters where the VMs of one failing node would not fit on the others.

    Empty until the capacity check of issue 16 gives its verdict.
    """
    return []
