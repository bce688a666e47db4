"""A student group's cluster is an address students typed: the scheduler never syncs it, and
nobody's "sync" button does either (the group's deployment checks are the only work that
reaches it; see test_check_deadline.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clusters.jobs import SYNC, enqueue_sync
from courses import services
from jobs.models import Job
from tests.clusters.factories import make_cluster
from vms.management.commands.run_scheduler import due_clusters, tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_cluster(group_a):
    return services.register_cluster(group_a, "rapi.group-a.example", 5080, "ro", "pw", "AB" * 32)


def test_the_scheduler_never_queues_a_sync_of_a_group_cluster(worker, group_cluster):
    pool = make_cluster("pool")
    assert group_cluster.last_sync_at is None  # due, were it any other cluster
    assert tick(60) == 1
    assert list(Job.objects.filter(kind=SYNC).values_list("cluster__name", flat=True)) == [
        pool.name
    ]
    assert list(due_clusters(timezone.now(), 60)) == [pool]


def test_a_sync_is_never_queued_for_a_group_cluster_whoever_asks(worker, group_cluster):
    # After a node operation, for instance (vms/jobs.py), or a trusted certificate.
    assert enqueue_sync(group_cluster) is None
    assert not Job.objects.filter(kind=SYNC).exists()


def test_a_superuser_s_sync_of_a_group_cluster_is_refused_with_the_reason(
    login, worker, superuser, group_cluster
):
    response = login(superuser).post(
        reverse("clusters:sync", args=[group_cluster.slug]), follow=True
    )
    assert response.status_code == 200
    assert "is a student group&#x27;s cluster: it is never synced" in response.content.decode()
    assert not Job.objects.filter(kind=SYNC).exists()
