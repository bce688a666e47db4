"""The History sections of the VM and cluster pages."""

import pytest
from django.urls import reverse

from access import sharing
from access.sharing import Grantee
from audit.log import history_for, record
from audit.models import AuditAction
from vms.ownership import change_owner

pytestmark = pytest.mark.django_db


def test_the_vm_page_shows_its_history_to_whoever_sees_the_vm(
    client_for, cluster_admin, power_user, owner, owned_vm
):
    owned_vm.refresh_from_db()
    change_owner(cluster_admin, owned_vm, power_user)
    response = client_for(power_user).get(reverse("vms:detail", args=["alpha", owned_vm.name]))
    assert [e.action for e in response.context["history"]] == [AuditAction.OWNER_CHANGE]
    assert b"from oscar to paula" in response.content
    assert b"owner changed" in response.content


def test_the_cluster_page_shows_its_admins_the_clusters_history_but_not_its_vms(
    client_for, cluster_admin, outsider, cluster, owned_vm
):
    sharing.grant(cluster_admin, cluster, Grantee(outsider), ["request_vm"])
    record(cluster_admin, AuditAction.VM_OPERATION, owned_vm, kind="reboot")
    response = client_for(cluster_admin).get(reverse("vms:cluster", args=["alpha"]))
    assert [e.action for e in response.context["history"]] == [AuditAction.PERMISSION_GRANT]
    assert "Request VMs to alice" in response.content.decode()


def test_history_for_reads_in_one_query_and_keeps_the_latest(
    cluster_admin, owned_vm, django_assert_num_queries
):
    for i in range(25):
        record(cluster_admin, AuditAction.VM_OPERATION, owned_vm, step=i)
    history_for(owned_vm)  # the content type is cached from here on
    with django_assert_num_queries(1):
        entries = history_for(owned_vm)
        assert [entry.actor.username for entry in entries] == ["carla"] * 20
    assert entries[0].details == {"step": 24}
