"""What counts against a quota, and what happens beyond it."""

import pytest
from django.core.exceptions import PermissionDenied

from clusters.backends.base import VMSpec
from jobs.models import Job, JobStatus
from vms import approvals, quotas, services
from vms.choices import ActualState
from vms.models import Quota, VirtualMachine, VMRequest
from vms.operations import JobKind


def spec(name, memory=256, vcpus=1, disks=(), start=True):
    template = "file" if disks else "diskless"
    return VMSpec(name, memory, vcpus, template, disks=list(disks), start=start)


def make_owned_vm(cluster, user, name, state=ActualState.RUNNING, memory=512, vcpus=1, disk=0):
    return VirtualMachine.objects.create(
        cluster=cluster,
        name=name,
        owner_user=user,
        actual_state=state,
        memory=memory,
        vcpus=vcpus,
        disks=[{"size": disk}] if disk else [],
    )


def test_a_creation_within_quota_starts_a_job(cluster, creator, default_quota, worker):
    outcome = approvals.submit_vm_creation(cluster, creator, spec("web1"), {"user": creator.pk})

    assert isinstance(outcome, Job) and outcome.kind == JobKind.CREATE
    assert quotas.usage_of(cluster, {"user": creator.pk}) == quotas.Amounts(256, 0, 1, 1)


def test_a_creation_beyond_quota_becomes_a_request_saying_which_limit(
    cluster, creator, default_quota, worker
):
    make_owned_vm(cluster, creator, "old", memory=900)

    outcome = approvals.submit_vm_creation(cluster, creator, spec("web1"), {"user": creator.pk})

    assert isinstance(outcome, VMRequest) and outcome.status == "pending"
    assert "1156 MiB of memory in all, over the quota of 1024 MiB of memory" in outcome.reason
    assert not Job.objects.exists()


def test_a_stopped_vm_counts_its_disk_but_not_its_memory(cluster, creator, default_quota):
    make_owned_vm(cluster, creator, "off", state=ActualState.STOPPED, memory=4096, disk=2048)

    assert quotas.usage_of(cluster, {"user": creator.pk}) == quotas.Amounts(0, 2048, 0, 1)


def test_starting_a_vm_beyond_the_memory_quota_is_refused_with_the_reason(
    cluster, creator, default_quota, worker
):
    make_owned_vm(cluster, creator, "big", memory=800)
    off = make_owned_vm(cluster, creator, "off", state=ActualState.STOPPED, memory=512)

    with pytest.raises(services.OperationRefused, match="over the quota of 1024 MiB of memory"):
        services.request_vm_operation(off, JobKind.START, creator)
    assert not Job.objects.exists()


def test_growing_a_vm_counts_only_the_growth(cluster, creator, default_quota, worker):
    vm = make_owned_vm(cluster, creator, "web", memory=512, vcpus=2)

    services.request_vm_operation(vm, JobKind.MODIFY, creator, changes={"memory": 1024})
    assert quotas.usage_of(cluster, {"user": creator.pk}).memory == 1024  # 512 + 512 queued
    Job.objects.update(status=JobStatus.SUCCEEDED)
    VirtualMachine.objects.filter(pk=vm.pk).update(memory=1024)
    vm.refresh_from_db()

    with pytest.raises(services.OperationRefused, match="5 vCPUs in all, over the quota of 4"):
        services.request_vm_operation(vm, JobKind.MODIFY, creator, changes={"vcpus": 5})


def test_a_queued_creation_counts_until_its_vm_exists(cluster, creator, default_quota, worker):
    approvals.submit_vm_creation(cluster, creator, spec("a", memory=1024), {"user": creator.pk})
    Job.objects.update(status=JobStatus.SUCCEEDED)  # done, but the row is not stored yet

    assert quotas.usage_of(cluster, {"user": creator.pk}).memory == 1024
    make_owned_vm(cluster, creator, "a", memory=1024)
    assert quotas.usage_of(cluster, {"user": creator.pk}).memory == 1024  # counted once


def test_an_owner_quota_replaces_the_default_and_empty_means_unlimited(
    cluster, creator, default_quota, cluster_admin
):
    approvals.set_quota(cluster_admin, cluster, {"user": creator.pk}, {"memory": None, "vms": 50})

    limits = quotas.limits_for(cluster, {"user": creator.pk})

    assert limits == quotas.Limits(memory=None, disk=None, vcpus=None, vms=50)
    Quota.objects.filter(owner_user=creator).update(use_default=True)
    assert quotas.limits_for(cluster, {"user": creator.pk}).memory == 1024


def test_no_quota_at_all_is_unlimited(cluster, creator, worker):
    outcome = approvals.submit_vm_creation(
        cluster, creator, spec("huge", memory=10**6), {"user": creator.pk}
    )
    assert isinstance(outcome, Job)


def test_a_group_quota_counts_the_group_vms_only(
    cluster, creator, default_quota, django_user_model, worker
):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="team")
    creator.groups.add(team)
    make_owned_vm(cluster, creator, "mine", memory=1000)

    outcome = approvals.submit_vm_creation(cluster, creator, spec("t1"), {"group": team.pk})

    assert isinstance(outcome, Job)


def test_a_user_who_may_not_request_cannot_create(cluster, outsider):
    with pytest.raises(PermissionDenied):
        approvals.submit_vm_creation(cluster, outsider, spec("x"), {"user": outsider.pk})
