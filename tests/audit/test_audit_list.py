"""The audit log page: who reads which entries, its filters, and its constant query count."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

URL = reverse("audit:list")


@pytest.fixture
def entries(superuser, cluster_admin, owner, cluster, other_cluster, owned_vm):
    """An owner change on the owned VM, a grant on the other cluster, and a change to no cluster."""
    return [
        record(cluster_admin, AuditAction.OWNER_CHANGE, owned_vm, old="", new="user:oscar"),
        record(
            superuser,
            AuditAction.PERMISSION_GRANT,
            other_cluster,
            grantee="user:carla",
            permissions=["admin"],
        ),
        record(superuser, AuditAction.QUOTA_CHANGE, None, note="global"),
    ]


def _rows(response):
    return [entry.pk for entry in response.context["page"].object_list]


def test_a_superuser_reads_every_entry(client_for, superuser, entries):
    response = client_for(superuser).get(URL)
    assert response.status_code == 200
    assert _rows(response) == [e.pk for e in reversed(entries)]


def test_a_cluster_admin_reads_the_entries_of_their_clusters_only(
    client_for, cluster_admin, entries
):
    response = client_for(cluster_admin).get(URL)
    assert _rows(response) == [entries[0].pk]
    assert b"from nobody to oscar" in response.content


def test_users_who_administer_no_cluster_are_refused(
    client_for, owner, power_user, outsider, entries
):
    for user in (owner, power_user, outsider):
        assert client_for(user).get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_the_log_filters_by_action_user_cluster_object_and_date(client_for, superuser, entries):
    root = client_for(superuser)
    old = entries[2]
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert _rows(root.get(URL, {"action": "permission.grant"})) == [entries[1].pk]
    assert _rows(root.get(URL, {"user": "CARL"})) == [entries[0].pk]
    assert _rows(root.get(URL, {"cluster": "beta"})) == [entries[1].pk]
    assert _rows(root.get(URL, {"object": "vm1.example"})) == [entries[0].pk]
    assert _rows(root.get(URL, {"date_from": today.isoformat()})) == [
        entries[1].pk,
        entries[0].pk,
    ]
    assert _rows(root.get(URL, {"date_to": (today - timedelta(days=5)).isoformat()})) == [old.pk]


def test_a_cluster_admin_cannot_filter_on_a_cluster_they_do_not_administer(
    client_for, cluster_admin, entries
):
    response = client_for(cluster_admin).get(URL, {"cluster": "beta"})
    assert response.context["form"].errors["cluster"]
    assert _rows(response) == [entries[0].pk]


def test_the_log_pages_fifty_at_a_time(client_for, superuser, cluster):
    for i in range(60):
        record(superuser, AuditAction.CLUSTER_CHANGE, cluster, step=i)
    root = client_for(superuser)
    assert len(_rows(root.get(URL))) == 50
    assert len(_rows(root.get(URL, {"page": 2}))) == 10


@pytest.mark.parametrize("persona", ["superuser", "cluster_admin"])
def test_the_log_keeps_its_query_count_whatever_the_number_of_rows(
    request, client_for, persona, cluster, owned_vm, django_assert_max_num_queries
):
    user = request.getfixturevalue(persona)
    browser = client_for(user)
    record(user, AuditAction.OWNER_CHANGE, owned_vm, old="", new="user:x")
    with django_assert_max_num_queries(12) as few:
        browser.get(URL)
    for i in range(40):
        record(user, AuditAction.OWNER_CHANGE, owned_vm, old="", new=f"user:{i}")
        record(user, AuditAction.CLUSTER_CHANGE, cluster, step=i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        browser.get(URL)


def test_the_navigation_shows_the_audit_log_to_superusers_and_cluster_admins(
    client_for, superuser, cluster_admin, owner
):
    def labels(user):
        response = client_for(user).get(reverse("dashboard"))
        return [str(section["label"]) for section in response.context["nav_sections"]]

    assert "Audit log" in labels(superuser)
    assert "Audit log" in labels(cluster_admin)
    assert "Audit log" not in labels(owner)
