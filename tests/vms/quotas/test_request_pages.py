"""The request workflow through its pages: beyond quota, approve (changed), refuse, withdraw."""

import pytest
from django.core import mail
from django.urls import reverse
from guardian.shortcuts import assign_perm

from audit.models import AuditAction, AuditEntry
from jobs.models import Job
from notifications.models import Notification
from vms.models import Quota, QuotaRequest, VMRequest

SPEC = {
    "name": "web1",
    "memory": 256,
    "vcpus": 1,
    "disk_template": "diskless",
    "disks": [],
    "nics": [],
    "start": True,
}


def _create(client, cluster, owner, name="web1", memory=512):
    data = {
        "name": name,
        "owner": owner,
        "vcpus": "1",
        "memory": str(memory),
        "disk_template": "diskless",
        "placement": "",
        "start": "on",
        "disks-TOTAL_FORMS": "0",
        "disks-INITIAL_FORMS": "0",
        "nics-TOTAL_FORMS": "0",
        "nics-INITIAL_FORMS": "0",
    }
    return client.post(reverse("vms:create", args=[cluster.slug]), data)


@pytest.fixture
def creator_client(client, creator):
    client.force_login(creator)
    return client


def _as(client, user):
    client.force_login(user)
    return client


def test_a_vm_beyond_quota_becomes_a_pending_request_the_admins_are_told_of(
    creator_client,
    creator,
    cluster_admin,
    cluster,
    default_quota,
    worker,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(creator_client, cluster, f"user:{creator.pk}", memory=2048)

    request = VMRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    assert request.status == "pending" and request.requested_by == creator
    assert "over the quota of 1024 MiB of memory" in request.reason
    assert not Job.objects.exists()
    assert Notification.objects.filter(user=cluster_admin, url=request.get_absolute_url()).exists()
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]
    page = creator_client.get(request.get_absolute_url())
    assert b"Withdraw the request" in page.content and b"Approve" not in page.content


def test_the_cluster_admin_approves_with_a_change_and_the_creation_job_starts(
    client, creator, cluster_admin, cluster, default_quota, worker
):
    request = VMRequest.objects.create(
        cluster=cluster,
        requested_by=creator,
        owner_user=creator,
        spec={
            "name": "web1",
            "memory": 2048,
            "vcpus": 1,
            "disk_template": "diskless",
            "disks": [],
            "nics": [],
            "start": True,
        },
    )
    cluster_admin_client = _as(client, cluster_admin)
    assert b"web1" in cluster_admin_client.get(reverse("vms:request_list")).content

    response = cluster_admin_client.post(
        reverse("vms:vm_request_approve", args=[request.pk]),
        {"memory": "1024", "vcpus": "1", "disks": "", "disk_template": "diskless"},
    )

    request.refresh_from_db()
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (
        request.status == "approved" and request.job == job and request.decided_by == cluster_admin
    )
    assert job.params["spec"]["memory"] == 1024 and job.params["owner"]["user"] == creator.pk
    assert Notification.objects.filter(user=creator, url=job.get_absolute_url()).exists()
    approval = AuditEntry.objects.get(action=AuditAction.REQUEST_APPROVE)
    assert approval.actor == cluster_admin and approval.details["changes"] == ["memory"]


def test_a_refusal_needs_a_reason_and_tells_the_requester(client, creator, cluster_admin, cluster):
    request = VMRequest.objects.create(
        cluster=cluster, requested_by=creator, owner_user=creator, spec=SPEC
    )
    cluster_admin_client = _as(client, cluster_admin)
    cluster_admin_client.post(reverse("vms:vm_request_refuse", args=[request.pk]), {"reason": ""})
    request.refresh_from_db()
    assert request.status == "pending"

    cluster_admin_client.post(
        reverse("vms:vm_request_refuse", args=[request.pk]), {"reason": "No room."}
    )

    request.refresh_from_db()
    assert request.status == "refused" and request.decision == "No room."
    note = Notification.objects.get(user=creator)
    assert "refused: No room." in note.text


def test_the_requester_withdraws_and_nobody_else_can(
    client, creator, cluster_admin, cluster, outsider
):
    request = VMRequest.objects.create(
        cluster=cluster, requested_by=creator, owner_user=creator, spec=SPEC
    )
    assert _as(client, outsider).get(request.get_absolute_url()).status_code == 404
    withdraw = reverse("vms:vm_request_withdraw", args=[request.pk])
    assert _as(client, cluster_admin).post(withdraw).status_code == 403

    _as(client, creator).post(withdraw)

    request.refresh_from_db()
    assert request.status == "withdrawn"
    approve = reverse("vms:vm_request_approve", args=[request.pk])
    _as(client, cluster_admin).post(
        approve, {"memory": "256", "vcpus": "1", "disk_template": "diskless"}
    )
    assert not Job.objects.exists()  # a withdrawn request cannot be approved


def test_the_requester_cannot_approve_their_own_request(client, creator, cluster, default_quota):
    request = VMRequest.objects.create(
        cluster=cluster,
        requested_by=creator,
        owner_user=creator,
        spec={"name": "web1", "memory": 256, "vcpus": 1, "disk_template": "diskless", "disks": []},
    )
    response = _as(client, creator).post(
        reverse("vms:vm_request_approve", args=[request.pk]),
        {"memory": "256", "vcpus": "1", "disk_template": "diskless"},
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_user_allowed_only_to_request_files_a_request_even_within_quota(
    client, outsider, cluster, worker, django_capture_on_commit_callbacks
):
    assign_perm("request_vm", outsider, cluster)
    with django_capture_on_commit_callbacks(execute=True):
        _create(_as(client, outsider), cluster, f"user:{outsider.pk}", memory=64)

    request = VMRequest.objects.get()
    assert "an administrator creates them" in request.reason
    assert not Job.objects.exists()


def test_approving_a_quota_request_sets_the_owners_quota(
    client, creator, cluster_admin, cluster, default_quota
):
    _as(client, creator).post(
        reverse("vms:quota_request_new", args=[cluster.slug]),
        {"owner": f"user:{creator.pk}", "memory": "4096", "message": "A database."},
    )
    request = QuotaRequest.objects.get()

    _as(client, cluster_admin).post(
        reverse("vms:quota_request_approve", args=[request.pk]),
        {"memory": "4096", "disk": "", "vcpus": "", "vms": ""},
    )

    quota = Quota.objects.get(owner_user=creator)
    assert (quota.use_default, quota.memory, quota.vms) == (False, 4096, 3)
    assert AuditEntry.objects.filter(action=AuditAction.QUOTA_CHANGE, actor=cluster_admin).exists()


def test_the_cluster_admins_queue_counts_only_requests_on_their_clusters(
    client, creator, cluster_admin, cluster, django_user_model, django_assert_max_num_queries
):
    from clusters.models import Cluster

    other = Cluster.objects.create(name="Other", slug="other", kind="libvirt")
    for target in (cluster, other, other):
        VMRequest.objects.create(
            cluster=target, requested_by=creator, owner_user=creator, spec=SPEC
        )
    from vms.approvals import pending_for

    vm_pending, quota_pending = pending_for(cluster_admin)
    assert vm_pending.count() == 1 and quota_pending.count() == 0
    cluster_admin_client = _as(client, cluster_admin)
    # Session, user, the four lists, and the navigation's counts: however many requests exist.
    with django_assert_max_num_queries(10):
        assert cluster_admin_client.get(reverse("vms:request_list")).status_code == 200
