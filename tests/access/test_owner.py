"""A VM's owner page: a cluster admin gives the VM to a user, a group, or nobody."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from guardian.shortcuts import assign_perm

from audit.models import AuditAction, AuditEntry
from notifications.models import Notification
from tests.personas import OWNED_VM
from vms.models import Quota, VirtualMachine
from vms.ownership import change_owner

pytestmark = pytest.mark.django_db

OWNER = reverse("vms:owner", args=["alpha", OWNED_VM])
DETAIL = reverse("vms:detail", args=["alpha", OWNED_VM])


def _vm():
    return VirtualMachine.objects.select_related("owner_user", "owner_group").get(
        name=OWNED_VM, cluster__slug="alpha"
    )


def test_a_cluster_admin_gives_the_vm_to_another_user(client_for, cluster_admin, owner, outsider):
    assign_perm("request_vm", outsider, _vm().cluster)  # one of the cluster's people
    carla = client_for(cluster_admin)
    assert carla.get(OWNER).status_code == 200
    response = carla.post(OWNER, {"owner": f"user:{outsider.pk}"})
    assert response.status_code == 302
    assert _vm().owner == outsider

    entry = AuditEntry.objects.get(action=AuditAction.OWNER_CHANGE)
    assert entry.actor == cluster_admin
    assert entry.details == {"old": "user:oscar", "new": "user:alice"}
    note = Notification.objects.get()
    assert note.user == outsider
    assert note.text == "You now own VM vm1.example.org on alpha."
    assert note.url == DETAIL

    # The new owner holds everything on it; the old one sees it no more.
    page = client_for(outsider).get(DETAIL)
    assert "admin" in page.context["vm_perms"]
    assert client_for(owner).get(DETAIL).status_code == 404


def test_giving_the_vm_to_a_group_tells_each_member(
    client_for, cluster_admin, owner, django_user_model
):
    team = Group.objects.create(name="team")
    members = [django_user_model.objects.create_user(name) for name in ("m1", "m2")]
    team.user_set.add(*members)
    assign_perm("request_vm", team, _vm().cluster)
    client_for(cluster_admin).post(OWNER, {"owner": f"group:{team.pk}"})
    vm = _vm()
    assert (vm.owner_user, vm.owner_group) == (None, team)
    texts = dict(Notification.objects.values_list("user__username", "text"))
    assert texts == {
        "m1": "Your group team now owns VM vm1.example.org on alpha.",
        "m2": "Your group team now owns VM vm1.example.org on alpha.",
    }
    assert AuditEntry.objects.get().details == {"old": "user:oscar", "new": "group:team"}


def test_the_vm_can_be_left_without_an_owner(client_for, superuser, owner):
    client_for(superuser).post(OWNER, {"owner": ""})
    assert _vm().owner is None
    assert AuditEntry.objects.get().details == {"old": "user:oscar", "new": ""}
    assert not Notification.objects.exists()


def test_giving_the_vm_to_its_owner_changes_nothing(cluster_admin, owner, owned_vm):
    owned_vm.refresh_from_db()
    assert change_owner(cluster_admin, owned_vm, owner) is False
    assert not AuditEntry.objects.exists()
    assert not Notification.objects.exists()


def test_the_owner_who_is_not_cluster_admin_is_refused(client_for, owner, outsider):
    oscar = client_for(owner)
    assert oscar.get(OWNER).status_code == 403
    assert oscar.post(OWNER, {"owner": f"user:{outsider.pk}"}).status_code == 403
    assert _vm().owner == owner
    assert not AuditEntry.objects.exists()


def test_a_power_user_is_refused_and_an_outsider_sees_nothing(
    client_for, power_user, group_member, outsider, owner
):
    assert client_for(power_user).get(OWNER).status_code == 403
    assert client_for(group_member).get(OWNER).status_code == 404
    assert client_for(outsider).get(OWNER).status_code == 404


def test_the_vm_page_offers_the_change_to_cluster_admins_only(client_for, cluster_admin, owner):
    assert client_for(cluster_admin).get(DETAIL).context["can_change_owner"] is True
    assert client_for(owner).get(DETAIL).context["can_change_owner"] is False


def _messages(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_giving_a_vm_beyond_the_new_owners_quota_warns_the_cluster_admin(
    client_for, cluster_admin, owner, outsider, owned_vm
):
    Quota.objects.create(cluster=owned_vm.cluster, owner_user=outsider, use_default=False, vms=0)
    response = client_for(cluster_admin).post(OWNER, {"owner": f"user:{outsider.pk}"}, follow=True)
    assert _vm().owner == outsider  # the cluster admin decides; the change is made
    assert (
        "warning",
        "alice is now over the quota on alpha: 1 VM in all, over the quota of 0 VMs.",
    ) in _messages(response)


def test_giving_a_vm_within_the_new_owners_quota_gives_no_warning(
    client_for, cluster_admin, owner, outsider, owned_vm
):
    Quota.objects.create(cluster=owned_vm.cluster, owner_user=outsider, use_default=False, vms=1)
    response = client_for(cluster_admin).post(OWNER, {"owner": f"user:{outsider.pk}"}, follow=True)
    assert _vm().owner == outsider
    assert [level for level, _text in _messages(response)] == ["success"]
