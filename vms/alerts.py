"""Alerts: a cluster's admins hear of a health problem once when it appears, and once when it
clears, in the application and by e-mail, each in their own language.

Run by the worker after each inventory sync (vms/jobs.py), never in a web request. What was
already known is kept in KnownProblem under the problem's stable key (vms/health.py), so the
next check stays silent about it. When many problems come at once (a node with all its VMs,
a whole cluster), the admins get one summary instead of a notification each.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from clusters.models import Cluster
from notifications.notify import notify
from vms import health
from vms.approvals import cluster_admins
from vms.models import KnownProblem

# More problems than this appearing (or clearing) in one check make one summary notification.
SUMMARY_ABOVE = 3
# Cleared problems are kept a while (a problem that comes back reopens its row), then dropped.
KEEP_CLEARED = timedelta(days=30)

APPEARED = gettext_lazy("Problem on %(cluster)s: %(problem)s")
CLEARED = gettext_lazy("Cleared on %(cluster)s: %(problem)s")
MANY_APPEARED = gettext_lazy("%(cluster)s: %(count)s new problems.")
MANY_CLEARED = gettext_lazy("%(cluster)s: %(count)s problems cleared.")


class Sentence:
    """A problem's sentence that translates itself when notify() renders it for a reader."""

    def __init__(self, message: str, params: dict):
        self.message, self.params = message, params

    def __str__(self):
        return health.render(self.message, self.params)


@dataclass
class AlertCheck:
    appeared: list = field(default_factory=list)  # health.Problem
    cleared: list = field(default_factory=list)  # KnownProblem


def check_alerts(cluster) -> AlertCheck:
    """Compare the cluster's problems with those already known; notify what changed."""
    cluster = Cluster.objects.get(pk=cluster.pk)  # the caller's copy predates the sync
    now = timezone.now()
    current = {problem.key: problem for problem in health.problems_of(cluster)}
    with transaction.atomic():
        known = {
            row.key: row for row in KnownProblem.objects.select_for_update().filter(cluster=cluster)
        }
        check = AlertCheck(
            appeared=[
                problem
                for key, problem in current.items()
                if key not in known or known[key].cleared_at is not None
            ],
            cleared=[
                row for key, row in known.items() if row.cleared_at is None and key not in current
            ],
        )
        _record(cluster, check, known, now)
        if check.appeared or check.cleared:
            _tell(cluster_admins(cluster), cluster, check)
    return check


def _record(cluster, check: AlertCheck, known, now) -> None:
    new = []
    for problem in check.appeared:
        values = {
            "severity": problem.severity,
            "message": problem.message,
            "params": problem.params,
            "first_seen": now,
            "cleared_at": None,
        }
        if problem.key in known:  # it had cleared, and is back
            KnownProblem.objects.filter(pk=known[problem.key].pk).update(**values)
        else:
            new.append(KnownProblem(cluster=cluster, key=problem.key, **values))
    KnownProblem.objects.bulk_create(new)
    if check.cleared:
        KnownProblem.objects.filter(pk__in=[row.pk for row in check.cleared]).update(cleared_at=now)
    KnownProblem.objects.filter(cluster=cluster, cleared_at__lt=now - KEEP_CLEARED).delete()


def _tell(admins, cluster, check: AlertCheck) -> None:
    page = cluster.get_absolute_url()
    if len(check.appeared) > SUMMARY_ABOVE:
        notify(admins, MANY_APPEARED, {"cluster": cluster.name, "count": len(check.appeared)}, page)
    else:
        for problem in check.appeared:
            sentence = Sentence(problem.message, problem.params)
            notify(admins, APPEARED, {"cluster": cluster.name, "problem": sentence}, problem.url)
    if len(check.cleared) > SUMMARY_ABOVE:
        notify(admins, MANY_CLEARED, {"cluster": cluster.name, "count": len(check.cleared)}, page)
    else:
        for row in check.cleared:
            sentence = Sentence(row.message, row.params)
            notify(admins, CLEARED, {"cluster": cluster.name, "problem": sentence}, page)
