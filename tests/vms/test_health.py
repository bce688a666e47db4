"""Health with reasons (vms/health.py): each problem's sentence, severity, since and link, and
the pages that list them, for the people who may see them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clusters.jobs import SYNC
from clusters.models import Cluster, Node
from jobs.models import Job, JobStatus
from tests.clusters.factories import make_cluster, make_inventory
from tests.personas import GROUP_VM, OWNED_VM
from vms.health import (
    drbd_problems,
    n_plus_one_problems,
    node_problems,
    pool_problems,
    problems_of,
    vm_problems,
)
from vms.models import KnownProblem, VirtualMachine
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


def only(problems):
    assert len(problems) == 1, [problem.sentence for problem in problems]
    return problems[0]


def node(cluster, name="node2"):
    return Node.objects.get(cluster=cluster, name=name)


def failed_job(cluster, vm=None, kind="start", hours_ago=1):
    finished = timezone.now() - timedelta(hours=hours_ago)
    return Job.objects.create(
        kind=kind,
        cluster=cluster,
        vm=vm,
        target=vm.name if vm else cluster.name,
        status=JobStatus.FAILED,
        finished_at=finished,
    )


def test_a_healthy_cluster_has_no_problems(cluster):
    assert problems_of(cluster) == []


def test_a_drained_node_is_a_warning_that_links_to_its_page(cluster):
    Node.objects.filter(cluster=cluster, name="node2").update(role="drained")
    problem = only(problems_of(cluster))
    assert problem.severity == "warning"
    assert problem.sentence == "Node node2 is drained: no new VMs are placed on it."
    assert problem.url == reverse("vms:node", args=[cluster.slug, "node2"])
    assert problem.subject == node(cluster)
    assert problem.key == f"node:{node(cluster).pk}:drained"


def test_an_offline_node_is_critical(cluster):
    Node.objects.filter(cluster=cluster, name="node2").update(role="offline")
    problem = only(problems_of(cluster))
    assert problem.severity == "critical"
    assert problem.sentence == "Node node2 is offline: its VMs cannot run there."
    assert problem.url == reverse("vms:node", args=[cluster.slug, "node2"])


def test_a_node_missing_from_the_last_sync_is_not_answering(cluster):
    store_inventory(cluster, make_inventory(vm_count=3, node_count=1))
    problem = only(problems_of(cluster))
    assert problem.severity == "critical"
    assert problem.sentence == (
        "Node node2 is not answering: the cluster did not list it at the last sync."
    )
    assert problem.url == reverse("vms:node", args=[cluster.slug, "node2"])


def test_a_vm_wanted_up_but_stopped_links_to_the_vm(cluster, owned_vm):
    VirtualMachine.objects.filter(pk=owned_vm.pk).update(actual_state="stopped")
    problem = only(problems_of(cluster))
    assert problem.severity == "warning"
    assert problem.sentence == f"VM {OWNED_VM} should be running but is stopped."
    assert problem.url == reverse("vms:detail", args=[cluster.slug, OWNED_VM])
    assert problem.key == f"vm:{owned_vm.pk}:state"


def test_a_vm_in_error_is_critical_and_one_running_against_its_wish_is_info(cluster, group_vm):
    VirtualMachine.objects.filter(name=OWNED_VM).update(actual_state="error")
    VirtualMachine.objects.filter(pk=group_vm.pk).update(wanted_state="down")
    problems = problems_of(cluster)
    assert [(p.severity, p.sentence) for p in problems] == [
        ("critical", f"VM {OWNED_VM} is in error on the cluster."),
        ("info", f"VM {GROUP_VM} should be stopped but is running."),
    ]


def test_a_failing_sync_says_why_and_since_when(cluster, superuser):
    failed_at = timezone.now() - timedelta(minutes=5)
    Cluster.objects.filter(pk=cluster.pk).update(
        last_sync_error="Cannot reach 127.0.0.1:1", last_sync_error_at=failed_at
    )
    cluster.refresh_from_db()
    problem = only(problems_of(cluster))
    assert problem.severity == "critical"
    assert problem.sentence == "The cluster cannot be read: Cannot reach 127.0.0.1:1"
    assert problem.since == failed_at
    assert problem.url == cluster.get_absolute_url()
    # A superuser is sent where the connection is set.
    problem = only(problems_of(cluster, superuser))
    assert problem.url == reverse("clusters:connection", args=[cluster.slug])


def test_the_first_failure_the_alerts_saw_is_the_since(cluster):
    first = timezone.now() - timedelta(hours=2)
    Cluster.objects.filter(pk=cluster.pk).update(
        last_sync_error="timeout", last_sync_error_at=timezone.now()
    )
    cluster.refresh_from_db()
    key = f"cluster:{cluster.pk}:sync"
    KnownProblem.objects.create(
        cluster=cluster, key=key, severity="critical", message="x", first_seen=first
    )
    assert only(problems_of(cluster)).since == first


def test_failed_jobs_of_the_last_day_are_counted_and_linked_to_the_filtered_list(cluster, owned_vm):
    failed_job(cluster, owned_vm, hours_ago=3)
    first = failed_job(cluster, hours_ago=5)
    failed_job(cluster, owned_vm, hours_ago=30)  # too old
    failed_job(cluster, kind=SYNC)  # a failing sync is its own problem
    Job.objects.create(kind="start", cluster=cluster, target="x", status=JobStatus.SUCCEEDED)
    problem = only(problems_of(cluster))
    assert problem.severity == "warning"
    assert problem.sentence == "Jobs that failed in the last 24 hours: 2."
    assert problem.url == f"{reverse('jobs:list')}?cluster={cluster.slug}&status=failed"
    assert problem.since == first.finished_at


def test_the_vm_page_counts_the_vms_own_failed_jobs(cluster, owned_vm, group_vm):
    failed_job(cluster, owned_vm)
    failed_job(cluster, group_vm)
    problem = only(vm_problems(owned_vm))
    assert problem.sentence == f"Jobs on VM {OWNED_VM} that failed in the last 24 hours: 1."
    assert problem.url == f"{reverse('jobs:list')}?vm={owned_vm.pk}&status=failed"


def test_memory_and_disk_above_the_clusters_thresholds_are_warnings(cluster):
    Node.objects.filter(cluster=cluster, name="node2").update(memory_free=1638, disk_free=10)
    problems = problems_of(cluster)
    assert {p.sentence for p in problems} == {
        "Node node2 uses 95% of its memory, above the warning level of 90%.",
        "Node node2 uses 99% of its disk, above the warning level of 90%.",
    }
    assert {p.url for p in problems} == {reverse("vms:node", args=[cluster.slug, "node2"])}
    Cluster.objects.filter(pk=cluster.pk).update(memory_warning_percent=96)
    cluster.refresh_from_db()
    assert [p.key.rsplit(":", 1)[1] for p in problems_of(cluster)] == ["disk"]
    # Half used (the inventory's figures) is no problem, whatever the threshold's default.
    assert node_problems(node(cluster, "node1")) == []


def test_the_worst_come_first(cluster, owned_vm):
    Node.objects.filter(cluster=cluster, name="node2").update(role="drained")
    Node.objects.filter(cluster=cluster, name="node1").update(role="offline")
    VirtualMachine.objects.filter(pk=owned_vm.pk).update(wanted_state="down")
    severities = [p.severity for p in problems_of(cluster)]
    assert severities == ["critical", "warning", "info"]


def test_the_hooks_for_drbd_and_n_plus_one_find_nothing_yet(cluster):
    assert drbd_problems([cluster]) == []
    assert n_plus_one_problems([cluster]) == []


# Who sees what --------------------------------------------------------------------------------
def test_a_viewer_sees_the_problems_of_their_vm_but_not_of_others(
    cluster, viewer, owned_vm, superuser
):
    VirtualMachine.objects.filter(cluster=cluster).update(actual_state="stopped")
    failed_job(cluster, VirtualMachine.objects.get(name=GROUP_VM))
    Node.objects.filter(cluster=cluster, name="node2").update(role="drained")
    sentences = [p.sentence for p in pool_problems(viewer)]
    assert sentences == [
        "Node node2 is drained: no new VMs are placed on it.",
        f"VM {OWNED_VM} should be running but is stopped.",
    ]
    assert len(pool_problems(superuser)) == 5  # 3 VMs, the node, the job


def test_an_outsider_sees_no_problem(cluster, other_cluster, outsider):
    Node.objects.update(role="offline")
    assert pool_problems(outsider) == []


def test_the_cluster_admin_sees_every_problem_of_their_cluster_only(
    cluster, other_cluster, cluster_admin
):
    Node.objects.update(role="offline")
    assert {p.cluster for p in pool_problems(cluster_admin)} == {cluster}


# The pages ------------------------------------------------------------------------------------
def test_the_cluster_page_lists_the_problems_with_their_links(client_for, cluster, cluster_admin):
    Node.objects.filter(cluster=cluster, name="node2").update(role="offline")
    page = client_for(cluster_admin).get(cluster.get_absolute_url()).content.decode()
    assert "Node node2 is offline: its VMs cannot run there." in page
    assert reverse("vms:node", args=[cluster.slug, "node2"]) in page
    assert "Open the node" in page


def test_the_node_page_lists_the_nodes_problems(client_for, cluster, cluster_admin):
    Node.objects.filter(cluster=cluster, name="node2").update(role="drained")
    KnownProblem.objects.create(
        cluster=cluster,
        key=f"node:{node(cluster).pk}:drained",
        severity="warning",
        message="x",
        first_seen=timezone.now() - timedelta(hours=3),
    )
    url = reverse("vms:node", args=[cluster.slug, "node2"])
    page = client_for(cluster_admin).get(url).content.decode()
    assert "Node node2 is drained" in page
    assert "began 3\xa0hours ago" in page


def test_the_vm_page_says_why_the_vm_is_a_problem(client_for, cluster, owner, owned_vm):
    VirtualMachine.objects.filter(pk=owned_vm.pk).update(actual_state="paused")
    page = client_for(owner).get(owned_vm.get_absolute_url()).content.decode()
    assert f"VM {OWNED_VM} should be running but is paused." in page


def test_the_dashboard_lists_the_worst_first_and_counts_the_rest(client_for, superuser):
    crowded = make_cluster("crowded")
    store_inventory(crowded, make_inventory(vm_count=14))
    VirtualMachine.objects.filter(cluster=crowded).update(actual_state="stopped")
    Node.objects.filter(cluster=crowded, name="node2").update(role="offline")
    response = client_for(superuser).get(reverse("dashboard"))
    problems = response.context["problems"]
    assert problems[0].sentence == "Node node2 is offline: its VMs cannot run there."
    assert len(problems) == 10
    assert response.context["more_problems"] == 5
    assert "and 5 more problems" in response.content.decode()


def test_the_dashboard_and_cluster_page_keep_their_query_counts_with_many_problems(
    client_for, superuser, django_assert_max_num_queries
):
    cluster = make_cluster("grow")
    store_inventory(cluster, make_inventory(vm_count=2, node_count=2))
    VirtualMachine.objects.update(actual_state="error")
    Node.objects.update(role="drained")
    failed_job(cluster)
    client = client_for(superuser)
    urls = [reverse("dashboard"), cluster.get_absolute_url()]
    counts = {}
    for url in urls:
        client.get(url)
        with django_assert_max_num_queries(25) as few:
            client.get(url)
        counts[url] = len(few.captured_queries)
    store_inventory(cluster, make_inventory(vm_count=60, node_count=6))
    VirtualMachine.objects.update(actual_state="error")
    Node.objects.update(role="drained")
    for _ in range(5):
        failed_job(cluster, VirtualMachine.objects.first())
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_the_cluster_admin_sets_the_thresholds(client_for, cluster, cluster_admin):
    data = {
        "name": cluster.name,
        "description": "",
        "memory_warning_percent": 80,
        "disk_warning_percent": 95,
    }
    response = client_for(cluster_admin).post(reverse("clusters:edit", args=[cluster.slug]), data)
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert (cluster.memory_warning_percent, cluster.disk_warning_percent) == (80, 95)
    data["disk_warning_percent"] = 101
    response = client_for(cluster_admin).post(reverse("clusters:edit", args=[cluster.slug]), data)
    assert response.status_code == 200
