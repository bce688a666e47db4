"""Syncs and connection tests as RQ jobs on a real Redis, and the scheduler's guard."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clusters.jobs import enqueue_sync
from clusters.models import Cluster
from tests.clusters.factories import make_cluster
from vms.management.commands.run_scheduler import tick

pytestmark = pytest.mark.django_db


def test_a_second_sync_is_not_queued_while_one_is_queued(worker):
    cluster = make_cluster()
    assert enqueue_sync(cluster) is not None
    assert enqueue_sync(cluster) is None


def test_the_worker_runs_the_sync_records_the_error_and_releases_the_cluster(
    worker, django_capture_on_commit_callbacks
):
    cluster = make_cluster()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_sync(cluster)
    assert worker.queued() == 1
    assert worker.run() == 0
    cluster.refresh_from_db()
    assert cluster.sync_job_id == ""
    assert "Cannot reach" in cluster.last_sync_error
    assert "127.0.0.1:1" in cluster.last_sync_error
    assert cluster.last_sync_error_at is not None


def test_a_claim_left_by_a_dead_worker_does_not_block_syncs_forever(worker):
    cluster = make_cluster()
    long_ago = timezone.now() - timedelta(minutes=10)
    Cluster.objects.filter(pk=cluster.pk).update(
        sync_job_id="sync-from-a-dead-worker", sync_claimed_at=long_ago
    )
    assert enqueue_sync(cluster) is not None


def test_a_fresh_claim_whose_job_is_not_in_redis_yet_still_blocks_a_second_sync(worker):
    cluster = make_cluster()
    Cluster.objects.filter(pk=cluster.pk).update(
        sync_job_id="sync-being-committed", sync_claimed_at=timezone.now()
    )
    assert enqueue_sync(cluster) is None


def test_the_scheduler_queues_only_clusters_that_are_due(
    worker, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_INTERVAL = 60
    fresh = make_cluster("fresh")
    stale = make_cluster("stale")
    make_cluster("never")
    now = timezone.now()
    Cluster.objects.filter(pk=fresh.pk).update(last_sync_at=now)
    Cluster.objects.filter(pk=stale.pk).update(last_sync_at=now - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(settings.SYNC_INTERVAL) == 2
        # Their syncs are still queued: a second round adds none.
        assert tick(settings.SYNC_INTERVAL) == 0
    assert worker.queued() == 2


def test_sync_now_queues_a_sync_for_an_admin(client, superuser, worker):
    cluster = make_cluster()
    client.force_login(superuser)
    response = client.post(reverse("clusters:sync", args=[cluster.slug]), follow=True)
    assert b"is queued" in response.content
    response = client.post(reverse("clusters:sync", args=[cluster.slug]), follow=True)
    assert b"already under way" in response.content


def test_a_connection_test_stores_a_readable_failure(worker, django_capture_on_commit_callbacks):
    from clusters.jobs import enqueue_connection_test

    cluster = make_cluster()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_connection_test(cluster)
    worker.run()
    cluster.refresh_from_db()
    assert cluster.connection_test["state"] == "failed"
    assert "Cannot reach" in cluster.connection_test["message"]
