"""Health and alerts against the real two-node Ganeti cluster: a node drained behind the
application's back shows up after a sync, with its reason, is told once, and clears."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from vms.health import problems_of

from . import test_ganeti_moves as moves

pytestmark = pytest.mark.django_db

# The two-node cluster registered through the application, and its node that is not master.
cluster, other = moves.cluster, moves.other


def sync(app, cluster):
    app.post(reverse("clusters:sync", args=[cluster.slug]))
    app.run_jobs()
    cluster.refresh_from_db()
    assert cluster.last_sync_error == "", cluster.last_sync_error


def notes(user):
    return list(
        Notification.objects.filter(user=user).order_by("pk").values_list("text", flat=True)
    )


def test_a_node_drained_behind_the_applications_back_is_a_problem_until_undrained(
    app, cluster, other, ganeti_pair
):
    sentence = f"Node {other.name} is drained: no new VMs are placed on it."
    before = len(notes(app.user))
    try:
        moves._set_role(ganeti_pair, other.name, "drained")
        sync(app, cluster)
        assert sentence in [problem.sentence for problem in problems_of(cluster)]
        page = app.page(cluster.get_absolute_url())
        assert sentence in page
        assert reverse("vms:node", args=[cluster.slug, other.name]) in page
        assert notes(app.user)[before:] == [f"Problem on {cluster.name}: {sentence}"]

        sync(app, cluster)  # still drained: nothing new to tell
        assert len(notes(app.user)) == before + 1
    finally:
        moves._set_role(ganeti_pair, other.name, "regular")
    sync(app, cluster)
    assert sentence not in [problem.sentence for problem in problems_of(cluster)]
    assert notes(app.user)[-1] == f"Cleared on {cluster.name}: {sentence}"
