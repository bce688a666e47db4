"""A cluster's history tells of every owner's quota and requests, a refusal's reason included:
only those who administer the cluster read it. Someone who merely sees the cluster (the viewer,
through a VM of theirs on it) finds no History section on its page."""

import pytest
from django.urls import reverse

from vms.models import VMRequest

pytestmark = pytest.mark.django_db

REASON = "The grades of maya do not allow more VMs this term."


@pytest.fixture
def cluster_history(client_for, cluster_admin, owner, creator, cluster):
    """The cluster admin sets the owner's quota and refuses the creator's request, saying why."""
    admin = client_for(cluster_admin)
    admin.post(
        reverse("vms:owner_quota", args=[cluster.slug, f"user:{owner.pk}"]),
        {"memory": "512", "vcpus": "1", "disk": "", "vms": "1"},
    )
    request = VMRequest.objects.create(
        cluster=cluster, requested_by=creator, owner_user=creator, spec={"name": "web1"}
    )
    admin.post(reverse("vms:vm_request_refuse", args=[request.pk]), {"reason": REASON})
    return admin


def test_a_viewer_of_the_cluster_reads_neither_quotas_nor_refusals_of_others(
    cluster_history, client_for, viewer, cluster
):
    response = client_for(viewer).get(reverse("vms:cluster", args=[cluster.slug]))

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["history"] is None
    assert "data-history" not in page
    assert REASON not in page and "quota changed" not in page


def test_the_cluster_admin_reads_the_clusters_history(cluster_history, cluster):
    response = cluster_history.get(reverse("vms:cluster", args=[cluster.slug]))

    page = response.content.decode()
    assert "data-history" in page
    assert [entry.action for entry in response.context["history"]] == [
        "request.refuse",
        "quota.change",
    ]
    assert REASON in page
