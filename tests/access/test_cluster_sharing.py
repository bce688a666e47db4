"""The cluster sharing page: cluster administrators grant and revoke cluster permissions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access import sharing
from access.sharing import Grantee
from audit.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

SHARING = reverse("clusters:permissions", args=["alpha"])
DETAIL = reverse("vms:cluster", args=["alpha"])


def test_a_cluster_admin_gives_a_user_create_vm_and_takes_it_back(
    client_for, cluster_admin, outsider, cluster
):
    # Alice works beside Carla (one of her groups): she may be named though she holds nothing.
    Group.objects.create(name="lab").user_set.add(cluster_admin, outsider)
    carla = client_for(cluster_admin)
    alice = client_for(outsider)
    assert alice.get(DETAIL).status_code == 404

    carla.post(
        SHARING, {"action": "grant", "kind": "user", "name": "alice", "perms": ["create_vm"]}
    )
    page = alice.get(DETAIL)
    assert page.status_code == 200
    assert page.context["cluster_perms"] == {"create_vm", "request_vm"}

    carla.post(SHARING, {"action": "revoke", "grantee": f"user:{outsider.pk}"})
    assert alice.get(DETAIL).status_code == 404
    entries = AuditEntry.objects.order_by("pk")
    assert [e.action for e in entries] == [
        AuditAction.PERMISSION_GRANT,
        AuditAction.PERMISSION_REVOKE,
    ]
    assert all(e.cluster == cluster and e.details["grantee"] == "user:alice" for e in entries)


def test_a_group_made_cluster_admin_makes_its_members_admins(
    client_for, cluster_admin, outsider, cluster
):
    ops = Group.objects.create(name="ops")
    ops.user_set.add(outsider, cluster_admin)
    client_for(cluster_admin).post(
        SHARING, {"action": "grant", "kind": "group", "name": "ops", "perms": ["admin"]}
    )
    assert client_for(outsider).get(SHARING).status_code == 200


def test_the_page_shows_holders_with_cluster_permission_columns(
    client_for, cluster_admin, superuser, cluster
):
    response = client_for(superuser).get(SHARING)
    assert [c[0] for c in response.context["columns"]] == [
        "admin",
        "create_vm",
        "request_vm",
        "migrate",
    ]
    assert [(h.grantee.label, h.perms) for h in response.context["holders"]] == [
        ("user:carla", {"admin"})
    ]


def test_those_who_see_the_cluster_without_admin_get_a_403(
    client_for, power_user, owner, group_member, outsider, cluster
):
    sharing.grant(None, cluster, Grantee(outsider), ["create_vm"])
    for user in (power_user, owner, group_member, outsider):
        assert client_for(user).get(SHARING).status_code == 403, user
        assert client_for(user).post(SHARING, {"action": "revoke"}).status_code == 403, user


def test_admins_of_another_cluster_get_a_404(client_for, cluster_admin, other_cluster):
    url = reverse("clusters:permissions", args=["beta"])
    assert client_for(cluster_admin).get(url).status_code == 404


def test_an_admin_who_revokes_their_own_admin_is_sent_away_from_the_page(
    client_for, cluster_admin, cluster
):
    response = client_for(cluster_admin).post(
        SHARING, {"action": "revoke", "grantee": f"user:{cluster_admin.pk}"}
    )
    assert response["Location"] == reverse("dashboard")
