"""Approving a quota request changes only the limits asked for; the page shows the outcome.

The attack: a requester asks for more memory only; the cluster admin approves with the form as
shown; every limit not asked for used to become unlimited (an empty field meant None).
"""

import re

import pytest
from django.urls import reverse

from audit.models import AuditAction, AuditEntry
from vms.models import Quota, QuotaRequest


def _ask(client, user, cluster, **limits):
    data = {"owner": f"user:{user.pk}", "message": "A database.", **limits}
    client.force_login(user)
    client.post(reverse("vms:quota_request_new", args=[cluster.slug]), data)
    return QuotaRequest.objects.get()


def _form_as_shown(page):
    """What the browser posts: each field of the approval form with the value it shows."""
    form = page.context["approve_form"]
    return {name: "" if form[name].value() is None else form[name].value() for name in form.fields}


def _cells(page, limit):
    """The (now, asked for, once approved) cells of one limit's row on the request page."""
    row = re.search(rf'<tr data-limit="{limit}">(.*?)</tr>', page.content.decode(), re.S)
    assert row, limit
    return tuple(
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    )


@pytest.fixture
def asked_for_memory(client, creator, cluster, default_quota):
    """The creator, on the cluster default (1 GiB, 10 GiB of disk, 4 vCPUs, 3 VMs), asks for
    4 GiB of memory and nothing else."""
    return _ask(client, creator, cluster, memory="4096")


def test_approving_a_request_for_memory_leaves_the_other_limits_as_they_were(
    client, creator, cluster_admin, cluster, asked_for_memory
):
    client.force_login(cluster_admin)
    page = client.get(asked_for_memory.get_absolute_url())

    response = client.post(
        reverse("vms:quota_request_approve", args=[asked_for_memory.pk]), _form_as_shown(page)
    )

    assert response.status_code == 302
    quota = Quota.objects.get(cluster=cluster, owner_user=creator)
    assert (quota.use_default, quota.memory, quota.disk, quota.vcpus, quota.vms) == (
        False,
        4096,
        10240,
        4,
        3,
    )
    asked_for_memory.refresh_from_db()
    assert asked_for_memory.status == "approved"


def test_the_approval_page_shows_each_limit_now_asked_for_and_once_approved(
    client, cluster_admin, asked_for_memory
):
    client.force_login(cluster_admin)
    page = client.get(asked_for_memory.get_absolute_url())

    assert _cells(page, "memory") == ("1.0 GiB", "4.0 GiB", "4.0 GiB")
    assert _cells(page, "disk") == ("10.0 GiB", "not asked", "10.0 GiB")
    assert _cells(page, "vcpus") == ("4", "not asked", "4")
    assert _cells(page, "vms") == ("3", "not asked", "3")


def test_the_requester_sees_the_same_outcome_without_the_approval_form(
    client, creator, asked_for_memory
):
    client.force_login(creator)
    page = client.get(asked_for_memory.get_absolute_url())
    assert page.context["approve_form"] is None
    assert _cells(page, "vcpus") == ("4", "not asked", "4")


def test_an_owner_with_unlimited_vms_keeps_them_unlimited(
    client, creator, cluster_admin, cluster, default_quota
):
    Quota.objects.create(
        cluster=cluster, owner_user=creator, use_default=False, memory=512, vcpus=2, disk=2048
    )
    request = _ask(client, creator, cluster, vcpus="8")
    client.force_login(cluster_admin)
    page = client.get(request.get_absolute_url())
    client.post(reverse("vms:quota_request_approve", args=[request.pk]), _form_as_shown(page))

    quota = Quota.objects.get(cluster=cluster, owner_user=creator)
    assert (quota.memory, quota.disk, quota.vcpus, quota.vms) == (512, 2048, 8, None)


def test_the_admin_may_change_a_limit_and_an_emptied_one_keeps_the_current(
    client, creator, cluster_admin, cluster, default_quota
):
    request = _ask(client, creator, cluster, memory="4096", disk="20480")
    client.force_login(cluster_admin)
    client.post(
        reverse("vms:quota_request_approve", args=[request.pk]),
        {"memory": "2048", "disk": "", "vcpus": "", "vms": ""},
    )

    quota = Quota.objects.get(cluster=cluster, owner_user=creator)
    assert (quota.memory, quota.disk, quota.vcpus, quota.vms) == (2048, 10240, 4, 3)
    approval = AuditEntry.objects.get(action=AuditAction.REQUEST_APPROVE)
    assert approval.details["changes"] == ["memory", "disk"]


def test_an_approval_with_every_limit_empty_is_refused_beside_the_form(
    client, creator, cluster_admin, cluster, asked_for_memory
):
    client.force_login(cluster_admin)
    response = client.post(
        reverse("vms:quota_request_approve", args=[asked_for_memory.pk]),
        {"memory": "", "disk": "", "vcpus": "", "vms": ""},
    )
    assert response.status_code == 200
    assert "Give at least one new limit" in str(response.context["approve_form"].errors)
    asked_for_memory.refresh_from_db()
    assert asked_for_memory.status == "pending"
    assert not Quota.objects.filter(owner_user=creator, use_default=False).exists()
