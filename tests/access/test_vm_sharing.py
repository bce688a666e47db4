"""The VM sharing page: its administrators grant and revoke VM permissions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import resolve, reverse
from guardian.shortcuts import assign_perm

from access import sharing
from access.sharing import Grantee
from audit.models import AuditAction, AuditEntry
from tests.personas import OWNED_VM
from vms.views.vms import vm_permissions

pytestmark = pytest.mark.django_db

SHARING = reverse("vms:permissions", args=["alpha", OWNED_VM])
DETAIL = reverse("vms:detail", args=["alpha", OWNED_VM])


def _grant(client, kind, name, perms):
    return client.post(SHARING, {"action": "grant", "kind": kind, "name": name, "perms": perms})


def test_the_sharing_url_is_not_taken_by_the_vm_action_pattern():
    assert resolve(SHARING).func is vm_permissions


def test_a_user_given_a_permission_sees_the_vm_and_loses_it_when_revoked(
    client_for, owner, outsider, owned_vm
):
    assign_perm("request_vm", outsider, owned_vm.cluster)  # one of the cluster's people
    sharer = client_for(owner)
    alice = client_for(outsider)
    assert alice.get(DETAIL).status_code == 404

    response = _grant(sharer, "user", "alice", ["power"])
    assert response.status_code == 302
    page = alice.get(DETAIL)
    assert page.status_code == 200
    assert page.context["vm_perms"] == {"power"}
    assert page.context["operations"]  # running: shut down, reboot, force off

    sharer.post(SHARING, {"action": "revoke", "grantee": f"user:{outsider.pk}"})
    assert alice.get(DETAIL).status_code == 404


def test_changing_the_checked_set_grants_and_revokes_the_difference(
    client_for, owner, outsider, owned_vm
):
    sharing.grant(owner, owned_vm, Grantee(outsider), ["power", "console"])
    sharer = client_for(owner)
    sharer.post(
        SHARING,
        {"action": "change", "grantee": f"user:{outsider.pk}", "perms": ["console", "modify"]},
    )
    assert sharing.held(owned_vm, Grantee(outsider)) == {"console", "modify"}
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "details"))
    assert actions[-2:] == [
        (AuditAction.PERMISSION_REVOKE, {"grantee": "user:alice", "permissions": ["power"]}),
        (AuditAction.PERMISSION_GRANT, {"grantee": "user:alice", "permissions": ["modify"]}),
    ]


def test_unchecking_everything_revokes_all(client_for, owner, outsider, owned_vm):
    sharing.grant(owner, owned_vm, Grantee(outsider), ["power"])
    client_for(owner).post(SHARING, {"action": "change", "grantee": f"user:{outsider.pk}"})
    assert sharing.held(owned_vm, Grantee(outsider)) == set()


def test_a_permission_given_to_a_group_works_for_its_members(client_for, owner, outsider, owned_vm):
    team = Group.objects.create(name="team")
    team.user_set.add(outsider, owner)
    sharer = client_for(owner)
    _grant(sharer, "group", "team", ["console"])
    page = client_for(outsider).get(DETAIL)
    assert page.status_code == 200
    assert page.context["vm_perms"] == {"console"}

    sharer.post(SHARING, {"action": "revoke", "grantee": f"group:{team.pk}"})
    assert client_for(outsider).get(DETAIL).status_code == 404


def test_the_page_lists_who_holds_what(client_for, owner, power_user, owned_vm):
    team = Group.objects.create(name="team")
    sharing.grant(owner, owned_vm, Grantee(team), ["console", "admin"])
    response = client_for(owner).get(SHARING)
    rows = [(h.grantee.label, h.perms) for h in response.context["holders"]]
    assert rows == [("user:paula", {"power"}), ("group:team", {"admin", "console"})]
    assert b'data-grantee="group:team"' in response.content


def test_the_holders_list_costs_two_queries_whatever_its_length(
    django_user_model, owner, owned_vm, django_assert_num_queries
):
    for i in range(5):
        user = django_user_model.objects.create_user(f"u{i}")
        sharing.grant(owner, owned_vm, Grantee(user), ["power", "console"])
    with django_assert_num_queries(2):
        assert len(sharing.holders(owned_vm)) == 5


def test_an_unknown_user_or_group_is_refused_beside_the_field(client_for, owner, owned_vm):
    sharer = client_for(owner)
    response = _grant(sharer, "user", "nobody", ["power"])
    assert response.status_code == 200
    assert "nobody" in str(response.context["grant_form"].errors["name"])
    response = _grant(sharer, "group", "nogroup", ["power"])
    assert response.context["grant_form"].errors["name"]
    assert not AuditEntry.objects.exists()


def test_granting_writes_the_audit_log(client_for, owner, outsider, owned_vm):
    assign_perm("request_vm", outsider, owned_vm.cluster)
    _grant(client_for(owner), "user", "alice", ["remove", "power"])
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.PERMISSION_GRANT
    assert entry.actor == owner
    assert entry.cluster == owned_vm.cluster
    assert entry.object_id == str(owned_vm.pk)
    assert entry.details == {"grantee": "user:alice", "permissions": ["power", "remove"]}


def test_granting_what_is_held_already_changes_and_records_nothing(owner, outsider, owned_vm):
    sharing.grant(owner, owned_vm, Grantee(outsider), ["power"])
    assert sharing.grant(owner, owned_vm, Grantee(outsider), ["power"]) == []
    assert AuditEntry.objects.count() == 1


def test_an_unknown_permission_is_a_programming_error(owner, outsider, owned_vm):
    with pytest.raises(ValueError):
        sharing.grant(owner, owned_vm, Grantee(outsider), ["create_vm"])


def test_the_owner_a_group_owner_a_vm_admin_a_cluster_admin_and_a_superuser_may_share(
    client_for, owner, group_member, cluster_admin, superuser, django_user_model, owned_vm, group_vm
):
    vm_admin = django_user_model.objects.create_user("vera")
    sharing.grant(owner, owned_vm, Grantee(vm_admin), ["admin"])
    for user in (owner, vm_admin, cluster_admin, superuser):
        assert client_for(user).get(SHARING).status_code == 200, user
    group_vm_sharing = reverse("vms:permissions", args=["alpha", group_vm.name])
    assert client_for(group_member).get(group_vm_sharing).status_code == 200


def test_a_user_who_sees_the_vm_without_admin_gets_a_403(client_for, power_user, outsider):
    paula = client_for(power_user)
    assert paula.get(SHARING).status_code == 403
    response = paula.post(
        SHARING, {"action": "grant", "kind": "user", "name": "alice", "perms": ["admin"]}
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_a_user_who_does_not_see_the_vm_gets_a_404(client_for, outsider, group_member, owned_vm):
    assert client_for(outsider).get(SHARING).status_code == 404
    # gina owns vm2 through her group, but not vm1.
    assert client_for(group_member).post(SHARING, {"action": "revoke"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, owned_vm):
    response = client.get(SHARING)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
