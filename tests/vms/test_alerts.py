"""Alerts (vms/alerts.py): a cluster's admins hear of a problem once when it appears and once
when it clears, in their language, and many problems at once make one summary."""

import pytest
from django.core import mail
from django.urls import reverse

from clusters.jobs import enqueue_sync
from clusters.models import Node
from notifications.models import LanguagePreference, Notification
from tests.clusters.factories import make_cluster
from tests.personas import make_cluster_admin
from vms.alerts import check_alerts
from vms.models import KnownProblem, VirtualMachine

pytestmark = pytest.mark.django_db

DRAINED = "Problem on alpha: Node node2 is drained: no new VMs are placed on it."


def texts(user):
    return list(
        Notification.objects.filter(user=user).order_by("pk").values_list("text", flat=True)
    )


def drain(cluster, role="drained"):
    Node.objects.filter(cluster=cluster, name="node2").update(role=role)


def test_a_new_problem_notifies_each_admin_once_in_the_app_and_by_email(
    cluster, cluster_admin, superuser, viewer, django_capture_on_commit_callbacks
):
    drain(cluster)
    with django_capture_on_commit_callbacks(execute=True):
        check = check_alerts(cluster)
    assert [problem.key for problem in check.appeared] == [
        f"node:{Node.objects.get(name='node2').pk}:drained"
    ]
    assert texts(cluster_admin) == texts(superuser) == [DRAINED]
    assert texts(viewer) == []
    note = Notification.objects.get(user=cluster_admin)
    assert note.url == reverse("vms:node", args=[cluster.slug, "node2"])
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["carla@example.com", "root@example.com"]
    assert "Node node2 is drained" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        check = check_alerts(cluster)
    assert check.appeared == [] and check.cleared == []
    assert texts(cluster_admin) == [DRAINED]
    assert len(mail.outbox) == 1


def test_a_problem_that_clears_is_told_once_and_its_return_again(cluster, cluster_admin):
    drain(cluster)
    check_alerts(cluster)
    drain(cluster, "regular")
    check = check_alerts(cluster)
    assert len(check.cleared) == 1
    assert texts(cluster_admin)[-1] == (
        "Cleared on alpha: Node node2 is drained: no new VMs are placed on it."
    )
    assert KnownProblem.objects.get().cleared_at is not None
    check_alerts(cluster)
    assert len(texts(cluster_admin)) == 2
    drain(cluster)
    check_alerts(cluster)
    assert texts(cluster_admin)[-1] == DRAINED
    assert len(texts(cluster_admin)) == 3
    assert KnownProblem.objects.get().cleared_at is None


def test_each_admin_reads_the_alert_in_their_own_language(cluster, cluster_admin, superuser):
    LanguagePreference.objects.create(user=cluster_admin, language="pt-br")
    drain(cluster)
    check_alerts(cluster)
    assert texts(superuser) == [DRAINED]
    assert texts(cluster_admin) == [
        "Problema em alpha: O nó node2 está drenado: nenhuma VM nova é colocada nele."
    ]


def test_twenty_problems_at_once_make_one_summary_per_admin(cluster, cluster_admin, superuser):
    for index in range(4, 21):
        VirtualMachine.objects.create(cluster=cluster, name=f"vm{index}", wanted_state="up")
    VirtualMachine.objects.filter(cluster=cluster).update(actual_state="stopped")
    assert VirtualMachine.objects.filter(cluster=cluster).count() == 20
    check = check_alerts(cluster)
    assert len(check.appeared) == 20
    assert texts(cluster_admin) == texts(superuser) == ["alpha: 20 new problems."]
    assert Notification.objects.get(user=cluster_admin).url == cluster.get_absolute_url()
    VirtualMachine.objects.filter(cluster=cluster).update(actual_state="running")
    check_alerts(cluster)
    assert texts(cluster_admin) == ["alpha: 20 new problems.", "alpha: 20 problems cleared."]


def test_only_the_admins_of_the_cluster_with_the_problem_hear_of_it(cluster, other_cluster):
    admin_of_other = make_cluster_admin(other_cluster)
    drain(cluster)
    check_alerts(cluster)
    assert texts(admin_of_other) == []


def test_a_failing_sync_run_by_the_worker_alerts_the_admins(
    worker, django_capture_on_commit_callbacks
):
    cluster = make_cluster("alpha")  # port 1 on loopback: the sync fails
    admin = make_cluster_admin(cluster)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_sync(cluster)
    assert worker.run() == 0
    [text] = texts(admin)
    assert text.startswith("Problem on alpha: The cluster cannot be read: Cannot reach")
