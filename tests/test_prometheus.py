"""The /metrics export: the token, the figures of a synced pool, and a scrape's fixed cost."""

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clusters.metrics import names, store
from clusters.models import Cluster
from jobs.models import Job, JobStatus
from tests.clusters.factories import make_cluster, make_inventory
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get(token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get(reverse("metrics"), headers=headers)

    return get


def _samples(response) -> dict[str, float]:
    """'name{labels}' -> value, from the text format."""
    found = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            key, _sep, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def test_the_export_is_off_without_a_token_and_refuses_a_wrong_one(client, settings, scrape):
    settings.METRICS_TOKEN = ""
    assert client.get(reverse("metrics")).status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert scrape(token=None).status_code == 401
    assert scrape(token="guess").status_code == 401
    assert scrape().status_code == 200


def test_a_synced_pool_is_exported_with_stable_labels(scrape, cluster, worker):
    Cluster.objects.filter(pk=cluster.pk).update(
        last_sync_at=timezone.now(), last_sync_duration=1.5, last_sync_error=""
    )
    django_rq.get_queue("default").enqueue("builtins.print")
    now = timezone.now()
    Job.objects.create(
        kind="reboot",
        cluster=cluster,
        status=JobStatus.SUCCEEDED,
        started_at=now - timezone.timedelta(seconds=30),
        finished_at=now - timezone.timedelta(seconds=20),
    )

    vm = cluster.vms.get(name="vm1.example.org")
    store.record([store.Point(f"vm:{vm.pk}", "cpu_percent", now, 42.5)])

    samples = _samples(scrape())

    assert samples['ganetiweb_cluster_up{cluster="alpha"}'] == 1
    assert samples['ganetiweb_cluster_sync_duration_seconds{cluster="alpha"}'] == 1.5
    assert (
        samples['ganetiweb_node_memory_total_bytes{cluster="alpha",node="node1"}'] == 32768 * 2**20
    )
    assert samples['ganetiweb_node_available{cluster="alpha",node="node2"}'] == 1
    assert samples['ganetiweb_vm_running{cluster="alpha",vm="vm1.example.org"}'] == 1
    assert samples['ganetiweb_vm_vcpus{cluster="alpha",vm="vm2.example.org"}'] == 2
    assert samples['ganetiweb_queue_length{queue="default"}'] == 1
    assert samples['ganetiweb_jobs{kind="reboot",status="succeeded"}'] == 1
    key = 'ganetiweb_job_duration_seconds_average{kind="reboot",result="succeeded"}'
    assert samples[key] == pytest.approx(10, abs=0.01)
    assert samples['ganetiweb_vm_cpu_percent{cluster="alpha",vm="vm1.example.org"}'] == 42.5


def test_a_scrape_costs_the_same_queries_for_a_large_pool(
    scrape, django_assert_num_queries, worker
):
    small = make_cluster("small")
    store_inventory(small, make_inventory(vm_count=2, node_count=1))
    scrape()  # warm up: content types, sessions
    with CaptureQueriesContext(connection) as small_scrape:
        scrape()
    # Clusters, nodes, VMs, jobs (two), console sessions; the newest sample of each metric.
    assert len(small_scrape.captured_queries) == 6 + len(names.VM_METRICS) + len(names.NODE_METRICS)
    large = make_cluster("large")
    store_inventory(large, make_inventory(vm_count=60, node_count=6))
    with django_assert_num_queries(len(small_scrape.captured_queries)):
        scrape()
