"""A cluster admin cannot learn which accounts exist from the sharing and owner pages.

The attack: type usernames into the grant form and read the error (“No active user is called
…” for a name that does not exist, success or another error for one that does), or read the
owner page's list, which held every user and group of the site.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from guardian.shortcuts import assign_perm

from access import sharing
from access.sharing import Grantee, candidates_for
from tests.personas import OWNED_VM, make_user
from vms.models import Quota

pytestmark = pytest.mark.django_db

SHARING = reverse("clusters:permissions", args=["alpha"])
VM_SHARING = reverse("vms:permissions", args=["alpha", OWNED_VM])
OWNER = reverse("vms:owner", args=["alpha", OWNED_VM])


def _grant_error(client, url, kind, name):
    response = client.post(url, {"action": "grant", "kind": kind, "name": name, "perms": ["power"]})
    assert response.status_code == 200
    return " ".join(response.context["grant_form"].errors["name"]).replace(name, "NAME")


def test_an_outsiders_username_and_a_made_up_one_get_the_same_answer(
    client_for, cluster_admin, outsider, cluster
):
    carla = client_for(cluster_admin)
    perms_url_error = {
        name: _grant_error(carla, SHARING, "user", name) for name in ("alice", "nobody")
    }
    assert perms_url_error["alice"] == perms_url_error["nobody"]
    assert "cannot be given permissions here" in perms_url_error["nobody"]
    assert not sharing.held(cluster, Grantee(outsider))


def test_an_unrelated_group_and_a_made_up_one_get_the_same_answer(
    client_for, cluster_admin, cluster
):
    Group.objects.create(name="finance")
    carla = client_for(cluster_admin)
    assert _grant_error(carla, SHARING, "group", "finance") == _grant_error(
        carla, SHARING, "group", "nogroup"
    )


def test_a_vm_owner_sharing_their_vm_gets_the_same_answer_too(client_for, owner, outsider):
    oscar = client_for(owner)
    assert _grant_error(oscar, VM_SHARING, "user", "alice") == _grant_error(
        oscar, VM_SHARING, "user", "nobody"
    )


def test_an_inactive_user_of_the_cluster_gets_the_same_answer(client_for, cluster_admin, cluster):
    former = make_user("fred", is_active=False)
    assign_perm("request_vm", former, cluster)
    carla = client_for(cluster_admin)
    assert _grant_error(carla, SHARING, "user", "fred") == _grant_error(
        carla, SHARING, "user", "nobody"
    )


def test_the_owner_page_lists_only_the_people_of_the_cluster(
    client_for, cluster_admin, owner, outsider, cluster
):
    colleague = make_user("colin")
    Group.objects.create(name="lab").user_set.add(cluster_admin, colleague)
    Group.objects.create(name="finance")
    quota_holder = make_user("quinn")
    Quota.objects.create(cluster=cluster, owner_user=quota_holder)

    page = client_for(cluster_admin).get(OWNER)

    users, groups = (
        dict(choices) for _label, choices in page.context["form"].fields["owner"].choices[1:]
    )
    assert sorted(users.values()) == ["carla", "colin", "oscar", "quinn"]
    assert sorted(groups.values()) == ["lab"]
    assert b"alice" not in page.content and b"finance" not in page.content


def test_giving_a_vm_to_an_outsider_is_refused_like_giving_it_to_no_one_at_all(
    client_for, cluster_admin, owner, outsider
):
    carla = client_for(cluster_admin)
    errors = []
    for value in (f"user:{outsider.pk}", "user:99999"):
        response = carla.post(OWNER, {"owner": value})
        assert response.status_code == 200
        errors.append(" ".join(response.context["form"].errors["owner"]).replace(value, "VALUE"))
    assert errors[0] == errors[1]


def test_a_superuser_may_pick_anyone(superuser, outsider, cluster):
    Group.objects.create(name="finance")
    candidates = candidates_for(superuser, cluster)
    assert outsider in candidates.users
    assert candidates.groups.filter(name="finance").exists()


def test_the_people_of_a_cluster_are_its_holders_owners_and_their_groups_members(
    cluster_admin, power_user, group_member, owner_group, owner, outsider, cluster, other_cluster
):
    member_of_holder = make_user("hugo")
    holders = Group.objects.create(name="holders")
    holders.user_set.add(member_of_holder)
    assign_perm("request_vm", holders, cluster)
    elsewhere = make_user("elsa")
    assign_perm("admin", elsewhere, other_cluster)

    candidates = candidates_for(cluster_admin, cluster)

    names = set(candidates.users.values_list("username", flat=True))
    # carla holds admin; paula power on vm1; oscar owns vm1; gina is in the group owning vm2;
    # hugo is in a group holding request_vm. alice holds nothing; elsa only on another cluster.
    assert names == {"carla", "paula", "oscar", "gina", "hugo"}
    assert set(candidates.groups.values_list("name", flat=True)) == {"staff", "holders"}
