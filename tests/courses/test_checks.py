"""Deployment checks against the real Ganeti test cluster (one node), run by a real worker."""

import contextlib
import secrets

import pytest
from django.urls import reverse

from clusters.models import Cluster
from courses.models import CheckRun
from testbed.ganeti import instance_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_checks(login, worker, django_capture_on_commit_callbacks):
    """Click "Run checks" as `user` and let a worker run the job; return the ended run."""

    def click(user, group):
        client = login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("courses:checks_run", args=[group.course.slug, group.pk])
            )
        assert response.status_code == 302
        assert worker.run() == 0
        run = CheckRun.objects.filter(group=group).first()
        assert run.ended, run.status
        return run, {result.name: result for result in run.results.all()}

    return click


def _register(login, user, group, **fields):
    response = login(user).post(
        reverse("courses:group_cluster", args=[group.course.slug, group.pk]), fields
    )
    assert response.status_code == 302, response.context["form"].errors
    group.refresh_from_db()
    return group.cluster


@pytest.fixture
def plain_instance(ganeti_cluster):
    name = f"curso-{secrets.token_hex(3)}.gwtest.example"
    job = ganeti_cluster.rapi("POST", "/2/instances", instance_body(name, memory=64))
    assert ganeti_cluster.wait_for_job(job)["status"] == "success"
    yield name
    ganeti_cluster.remove_instance(name)


def test_on_the_one_node_cluster_the_two_node_check_fails_and_the_rest_is_evidence(
    login, students, group_a, ganeti_cluster, plain_instance, run_checks
):
    # Other tests share this cluster and may have migrated or failed over an instance: archive
    # the finished jobs, so the history holds no migration, as on a freshly built cluster.
    ganeti_cluster.gnt("gnt-job", "autoarchive", "1")  # older than 1 s; "all" archives none
    # Leaves a verify job in the history (it fails on the test bed's own limits).
    with contextlib.suppress(RuntimeError):
        ganeti_cluster.gnt("gnt-cluster", "verify")
    _register(
        login,
        students[0],
        group_a,
        rapi_host=ganeti_cluster.rapi_host,
        rapi_port=ganeti_cluster.rapi_port,
        rapi_user=ganeti_cluster.rapi_user,
        rapi_password=ganeti_cluster.rapi_password,
        fingerprint=ganeti_cluster.cert_sha256,
    )
    run, results = run_checks(students[1], group_a)
    assert run.status == "finished" and run.requested_by == students[1]
    assert list(results) == [
        "reachable",
        "version",
        "nodes",
        "replicated",
        "not_replicated",
        "migration",
        "verify",
    ]
    assert results["reachable"].passed
    assert ganeti_cluster.cluster_name in results["reachable"].details
    assert results["version"].passed and results["version"].details.startswith("Ganeti 3.")
    nodes = results["nodes"]
    assert not nodes.passed
    assert nodes.details == (
        f"Only 1 node ({ganeti_cluster.master_node} (master)): at least 2 nodes are needed for "
        "replication and migration."
    )
    assert results["not_replicated"].passed
    assert f"{plain_instance} (diskless)" in results["not_replicated"].details
    assert not results["replicated"].passed
    assert not results["migration"].passed
    assert "gnt-instance migrate" in results["migration"].details
    assert "job" in results["verify"].details
    assert all(result.checked_at is not None for result in results.values())


def test_a_cluster_first_seen_shows_its_fingerprint_to_confirm_then_answers(
    login, students, group_a, ganeti_cluster, run_checks
):
    cluster = _register(
        login,
        students[0],
        group_a,
        rapi_host=ganeti_cluster.rapi_host,
        rapi_port=ganeti_cluster.rapi_port,
        rapi_user=ganeti_cluster.rapi_user,
        rapi_password=ganeti_cluster.rapi_password,
    )
    run, results = run_checks(students[0], group_a)
    assert not results["reachable"].passed
    cluster.refresh_from_db()
    expected = ":".join(ganeti_cluster.cert_sha256.upper()[i : i + 2] for i in range(0, 64, 2))
    assert cluster.seen_fingerprint == expected
    assert expected in results["reachable"].details
    page = login(students[0]).get(group_a.get_absolute_url()).content.decode()
    assert expected in page

    login(students[0]).post(
        reverse("courses:group_trust", args=[group_a.course.slug, group_a.pk]),
        {"fingerprint": expected},
    )
    run, results = run_checks(students[0], group_a)
    assert results["reachable"].passed and results["version"].passed


def test_an_unreachable_cluster_fails_the_reachable_check_with_a_reason_and_the_run_ends(
    login, teacher, students, group_a, run_checks
):
    # Port 1 on loopback: nothing listens there. Loopback is refused unless a superuser marks
    # the cluster as running on this machine (clusters/backends/destinations.py): marked so.
    cluster = _register(
        login,
        students[0],
        group_a,
        rapi_host="127.0.0.1",
        rapi_port=1,
        rapi_user="ro",
        rapi_password="pw",
        fingerprint="AB" * 32,
    )
    Cluster.objects.filter(pk=cluster.pk).update(on_this_machine=True)
    run, results = run_checks(teacher, group_a)
    assert run.status == "finished" and run.finished_at is not None
    reachable = results["reachable"]
    assert not reachable.passed
    assert reachable.details.startswith(
        "The cluster could not be reached: Cannot reach the Ganeti cluster at 127.0.0.1:1"
    )
    assert all(
        not r.passed and r.message == "not_checked" for n, r in results.items() if n != "reachable"
    )
    page = login(teacher).get(group_a.get_absolute_url()).content.decode()
    assert "Cannot reach the Ganeti cluster at 127.0.0.1:1" in page


def test_a_group_without_a_cluster_is_told_to_register_it(login, students, group_a, run_checks):
    run, results = run_checks(students[0], group_a)
    assert run.status == "finished"
    assert "has not registered its cluster" in results["reachable"].details


def test_a_second_click_while_the_checks_run_is_refused(
    login, students, group_a, django_capture_on_commit_callbacks, worker
):
    client = login(students[0])
    url = reverse("courses:checks_run", args=[group_a.course.slug, group_a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
        response = client.post(url, follow=True)
    assert "already running" in response.content.decode()
    assert CheckRun.objects.filter(group=group_a).count() == 1
    assert worker.queued() == 1


def test_a_run_lost_with_its_worker_does_not_block_the_next_one(
    login, students, group_a, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    lost = CheckRun.objects.create(group=group_a, status="running")
    CheckRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False):
        login(students[0]).post(
            reverse("courses:checks_run", args=[group_a.course.slug, group_a.pk])
        )
    lost.refresh_from_db()
    assert lost.status == "failed" and lost.ended
    assert CheckRun.objects.filter(group=group_a, status="queued").count() == 1
