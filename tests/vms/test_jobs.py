"""Jobs: the runner marks start, success and failure; cancel, retry, recovery, pages."""

import dataclasses

import pytest
from django.urls import reverse

from jobs import runner
from jobs.models import Job, JobStatus
from jobs.recovery import recover_abandoned_jobs
from jobs.runner import run_job
from tests.clusters.factories import make_cluster, make_inventory
from vms import operations, services
from vms.models import VirtualMachine
from vms.operations import JobKind
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm():
    cluster = make_cluster("alpha")  # RAPI on 127.0.0.1:1: nothing answers there
    store_inventory(cluster, make_inventory(vm_count=1))
    return VirtualMachine.objects.get()


def test_a_job_the_cluster_cannot_do_ends_failed_with_the_reason(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser, hard=False)
    assert job.status == JobStatus.QUEUED
    run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Cannot reach the Ganeti cluster at 127.0.0.1:1" in job.error
    assert job.started_at and job.finished_at and job.traceback == ""


def test_a_crash_ends_the_job_failed_and_keeps_the_traceback_for_admins(
    vm, superuser, outsider, client, monkeypatch, worker
):
    # A fake, on purpose: a bug in our own code cannot be produced with a real cluster.
    def crash(job, backend, progress):
        progress.log("about to fail")
        raise ValueError("a bug")

    start = dataclasses.replace(operations.get(JobKind.START), call=crash)
    monkeypatch.setitem(operations._BY_KIND, JobKind.START, start)
    VirtualMachine.objects.filter(pk=vm.pk).update(actual_state="stopped", owner_user=outsider)
    job = services.request_vm_operation(vm, JobKind.START, outsider)
    run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "The operation stopped on an unexpected error (ValueError)."
    assert "ValueError: a bug" in job.traceback
    assert "about to fail" in job.log
    client.force_login(outsider)
    assert b"ValueError: a bug" not in client.get(job.get_absolute_url()).content
    client.force_login(superuser)
    assert b"ValueError: a bug" in client.get(job.get_absolute_url()).content


def test_a_second_operation_on_a_busy_vm_is_refused(vm, superuser, worker):
    services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    with pytest.raises(services.OperationRefused, match="queued or running"):
        services.request_vm_operation(vm, JobKind.SHUTDOWN, superuser, timeout=60)


def test_an_operation_that_makes_no_sense_in_the_vms_state_is_refused(vm, superuser, worker):
    with pytest.raises(services.OperationRefused, match="not possible .* while it is running"):
        services.request_vm_operation(vm, JobKind.START, superuser)


@pytest.mark.parametrize(
    ("state", "template", "present", "absent"),
    [
        ("running", "drbd", ["shutdown", "reboot", "force_off", "migrate", "failover"], ["start"]),
        ("stopped", "drbd", ["start", "rename", "reinstall", "delete"], ["shutdown", "migrate"]),
        # Ganeti moves a diskless instance (nothing to copy), but not a file one.
        ("running", "diskless", ["shutdown", "migrate", "failover"], ["reinstall", "rename"]),
        ("running", "file", ["shutdown", "modify"], ["migrate", "failover", "rename"]),
    ],
)
def test_only_the_actions_that_make_sense_are_offered(vm, state, template, present, absent):
    vm.actual_state, vm.disk_template = state, template
    actions = [op.kind for op in operations.available_for(vm)]
    assert all(a in actions for a in present)
    assert not any(a in actions for a in absent)


def test_a_canceled_job_is_not_run(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    assert runner.cancel(job, job.requested_by) is True
    assert run_job(str(job.pk)) == "not queued"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED and job.started_at is None


def test_a_running_job_cannot_be_canceled(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    assert runner.cancel(job, job.requested_by) is False


def test_a_failed_job_is_retried_as_a_new_job(vm, superuser, client, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser, hard=True)
    run_job(str(job.pk))
    client.force_login(superuser)
    response = client.post(reverse("jobs:retry", args=[job.pk]))
    clone = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == clone.get_absolute_url()
    assert (clone.kind, clone.params, clone.retry_of_id) == (job.kind, {"hard": True}, job.pk)
    assert clone.status == JobStatus.QUEUED


def test_retrying_a_failed_start_of_a_vm_now_running_is_refused_like_a_click_would_be(
    vm, superuser, client, worker
):
    VirtualMachine.objects.filter(pk=vm.pk).update(actual_state="stopped")
    job = services.request_vm_operation(vm, JobKind.START, superuser)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    VirtualMachine.objects.filter(pk=vm.pk).update(actual_state="running")  # started meanwhile
    job.refresh_from_db()

    with pytest.raises(services.OperationRefused, match="not possible .* while it is running"):
        services.retry_job(job, superuser)
    client.force_login(superuser)
    response = client.post(reverse("jobs:retry", args=[job.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "start is not possible for vm1.example.org while it is running."
    ]
    assert Job.objects.count() == 1


def test_retrying_while_another_operation_is_queued_is_refused(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    services.request_vm_operation(vm, JobKind.SHUTDOWN, superuser, timeout=60)
    job.refresh_from_db()
    with pytest.raises(services.OperationRefused, match="queued or running"):
        services.retry_job(job, superuser)
    assert Job.objects.count() == 2


def test_a_retry_of_an_available_operation_queues_one_job_and_is_audited(vm, superuser, worker):
    from audit.models import AuditAction, AuditEntry

    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser, hard=False)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    job.refresh_from_db()

    clone = services.retry_job(job, superuser)

    assert Job.objects.exclude(pk=job.pk).get() == clone
    assert (clone.retry_of_id, clone.status, clone.params) == (
        job.pk,
        JobStatus.QUEUED,
        {"hard": False},
    )
    entries = AuditEntry.objects.filter(action=AuditAction.VM_OPERATION)
    assert [e.details["job"] for e in entries.order_by("pk")] == [str(job.pk), str(clone.pk)]


def test_a_job_whose_worker_died_is_marked_failed_with_that_reason(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, worker_name="gone-worker")
    assert recover_abandoned_jobs(worker.connection) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "worker running this job stopped" in job.error


def test_a_ganeti_job_whose_worker_died_is_followed_again(vm, superuser, worker):
    job = services.request_vm_operation(vm, JobKind.REBOOT, superuser)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, worker_name="gone-worker", remote_job_id="42"
    )
    assert recover_abandoned_jobs(worker.connection) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert "following cluster job 42" in job.log
    assert worker.queued() >= 1


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_ends(vm, superuser, client):
    job = Job.objects.create(kind=JobKind.REBOOT, cluster=vm.cluster, vm=vm, target=vm.name)
    client.force_login(superuser)
    fragment = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in fragment.content
    assert b"<html" not in fragment.content
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, progress=100)
    assert b"hx-trigger" not in client.get(job.get_absolute_url()).content


def test_a_user_sees_only_jobs_on_vms_they_may_see(vm, outsider, client):
    job = Job.objects.create(kind=JobKind.REBOOT, cluster=vm.cluster, vm=vm, target=vm.name)
    client.force_login(outsider)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 404
    VirtualMachine.objects.filter(pk=vm.pk).update(owner_user=outsider)
    assert client.get(job.get_absolute_url()).status_code == 200
    listed = client.get(reverse("jobs:list"), {"vm": vm.pk}).context["page"].object_list
    assert list(listed) == [job]


def test_the_jobs_list_keeps_its_query_count(vm, superuser, client, django_assert_max_num_queries):
    client.force_login(superuser)
    Job.objects.create(kind=JobKind.REBOOT, cluster=vm.cluster, vm=vm, target=vm.name)
    client.get(reverse("jobs:list"), {"scope": "all"})
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("jobs:list"), {"scope": "all"})
    for _ in range(30):
        Job.objects.create(
            kind=JobKind.START, cluster=vm.cluster, vm=vm, target=vm.name, requested_by=superuser
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("jobs:list"), {"scope": "all"})
