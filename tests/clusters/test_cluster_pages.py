"""Cluster, node and dashboard pages: they read the database only, and show sync errors."""

import pytest
from django.urls import reverse

from clusters.models import Cluster
from tests.clusters.factories import make_cluster, make_inventory
from vms.models import VirtualMachine
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha():
    cluster = make_cluster("alpha")
    store_inventory(cluster, make_inventory(vm_count=3))
    return cluster


def test_the_dashboard_sums_the_pool_over_the_clusters(client, superuser, alpha):
    beta = make_cluster("beta")
    store_inventory(beta, make_inventory(vm_count=1, node_count=1))
    client.force_login(superuser)
    response = client.get(reverse("dashboard"))
    total = response.context["total"]
    assert total.nodes == 3
    assert total.memory_total == 3 * 32768
    assert total.vms == 4
    assert [card.cluster.name for card in response.context["cards"]] == ["alpha", "beta"]


def test_an_outsider_sees_only_the_clusters_holding_their_vms(client, outsider, alpha):
    make_cluster("beta")
    VirtualMachine.objects.filter(name="vm1.example.org").update(owner_user=outsider)
    client.force_login(outsider)
    response = client.get(reverse("vms:cluster_list"))
    assert [card.cluster.name for card in response.context["cards"]] == ["alpha"]
    assert client.get(reverse("vms:cluster", args=["beta"])).status_code == 404


def test_the_cluster_page_counts_only_the_vms_the_user_may_see(client, outsider, alpha):
    VirtualMachine.objects.filter(name="vm1.example.org").update(owner_user=outsider)
    client.force_login(outsider)
    response = client.get(reverse("vms:cluster", args=["alpha"]))
    assert response.context["vm_count"] == 1 < alpha.vms.count()
    assert "1 VM in the VM list" in response.content.decode()


def test_a_cluster_without_vms_has_no_link_to_an_empty_list(client, superuser):
    make_cluster("empty")
    client.force_login(superuser)
    response = client.get(reverse("vms:cluster", args=["empty"]))
    assert response.status_code == 200
    assert "No virtual machines to show." in response.content.decode()
    assert "in the VM list" not in response.content.decode()


def test_the_cluster_page_asks_admins_for_a_missing_kvm_vnc_password(client, superuser, alpha):
    alpha.info = {**alpha.info, "vnc_password_file": "/etc/ganeti/vnc-pw"}
    alpha.save()
    client.force_login(superuser)
    url = reverse("vms:cluster", args=["alpha"])
    assert "ask for the password in /etc/ganeti/vnc-pw" in client.get(url).content.decode()

    alpha.vnc_password = "vncpass1"
    alpha.save()
    assert "/etc/ganeti/vnc-pw" not in client.get(url).content.decode()


def test_a_cluster_the_user_cannot_see_is_a_404_on_every_page(client, outsider, alpha):
    client.force_login(outsider)
    for name in ("vms:cluster", "clusters:edit", "clusters:import"):
        assert client.get(reverse(name, args=["alpha"])).status_code == 404
    for name in ("sync", "test", "trust"):
        assert client.post(reverse(f"clusters:{name}", args=["alpha"])).status_code == 404
    node_url = reverse("vms:node", args=["alpha", "node1"])
    assert client.get(node_url).status_code == 404


def test_a_user_who_sees_a_cluster_but_does_not_administer_it_gets_403(client, outsider, alpha):
    VirtualMachine.objects.filter(name="vm1.example.org").update(owner_user=outsider)
    client.force_login(outsider)
    assert client.get(reverse("vms:cluster", args=["alpha"])).status_code == 200
    assert client.post(reverse("clusters:sync", args=["alpha"])).status_code == 403
    assert client.get(reverse("clusters:edit", args=["alpha"])).status_code == 403


def test_an_unreachable_cluster_is_a_message_on_its_pages(client, superuser, alpha):
    Cluster.objects.filter(pk=alpha.pk).update(
        last_sync_error="Cannot reach the Ganeti cluster at 127.0.0.1:1: connection refused."
    )
    client.force_login(superuser)
    for url in (
        reverse("dashboard"),
        reverse("vms:cluster_list"),
        reverse("vms:cluster", args=["alpha"]),
        reverse("vms:detail", args=["alpha", "vm1.example.org"]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert b"connection refused" in response.content
    assert b"unreachable" in client.get(reverse("vms:cluster_list")).content


def test_the_node_page_lists_primary_and_secondary_vms(client, superuser, alpha):
    client.force_login(superuser)
    response = client.get(reverse("vms:node", args=["alpha", "node2"]))
    assert response.status_code == 200
    assert list(response.context["primary_vms"]) == []
    assert len(response.context["secondary_vms"]) == 3


def test_the_cluster_list_keeps_its_query_count_whatever_the_size(
    client, superuser, django_assert_max_num_queries
):
    small = make_cluster("small")
    store_inventory(small, make_inventory(vm_count=2, node_count=1))
    client.force_login(superuser)
    client.get(reverse("vms:cluster_list"))  # warm the session
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("vms:cluster_list"))
    for name in ("b1", "b2", "b3"):
        store_inventory(make_cluster(name), make_inventory(vm_count=30, node_count=4))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("vms:cluster_list"))


def test_the_cluster_page_keeps_its_query_count_whatever_the_size(
    client, superuser, django_assert_max_num_queries
):
    cluster = make_cluster("grow")
    store_inventory(cluster, make_inventory(vm_count=2, node_count=2))
    client.force_login(superuser)
    url = reverse("vms:cluster", args=["grow"])
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    store_inventory(cluster, make_inventory(vm_count=60, node_count=6))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_dashboard_keeps_its_query_count_whatever_the_size(
    client, superuser, django_assert_max_num_queries
):
    store_inventory(make_cluster("one"), make_inventory(vm_count=2))
    client.force_login(superuser)
    client.get(reverse("dashboard"))
    # 8 for the pool and quotas, 3 for its problems (vms/health.py: nodes, VMs, failed jobs).
    with django_assert_max_num_queries(11) as few:
        client.get(reverse("dashboard"))
    for name in ("two", "three"):
        store_inventory(make_cluster(name), make_inventory(vm_count=40, node_count=5))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("dashboard"))


def test_an_admin_gives_unowned_vms_an_owner_in_bulk(client, superuser, outsider, alpha):
    client.force_login(superuser)
    url = reverse("clusters:import", args=["alpha"])
    page = client.get(url)
    assert [vm.name for vm in page.context["unowned"]] == [
        "vm1.example.org",
        "vm2.example.org",
        "vm3.example.org",
    ]
    chosen = VirtualMachine.objects.filter(name__in=["vm1.example.org", "vm3.example.org"])
    data = {"action": "assign", "vms": [vm.pk for vm in chosen], "owner": f"user:{outsider.pk}"}
    assert client.post(url, data).status_code == 302
    owned = VirtualMachine.objects.filter(owner_user=outsider).values_list("name", flat=True)
    assert sorted(owned) == ["vm1.example.org", "vm3.example.org"]


def test_assigning_without_an_owner_is_refused_with_a_message(client, superuser, alpha):
    client.force_login(superuser)
    vm = VirtualMachine.objects.get(name="vm1.example.org")
    response = client.post(
        reverse("clusters:import", args=["alpha"]), {"action": "assign", "vms": [vm.pk]}
    )
    assert response.status_code == 200
    assert b"Choose the owner" in response.content


def test_an_admin_forgets_missing_vms_but_not_present_ones(client, superuser, alpha):
    VirtualMachine.objects.filter(name="vm2.example.org").update(missing=True)
    present = VirtualMachine.objects.get(name="vm1.example.org")
    gone = VirtualMachine.objects.get(name="vm2.example.org")
    client.force_login(superuser)
    url = reverse("clusters:import", args=["alpha"])
    refused = client.post(url, {"action": "forget", "vms": [present.pk]})
    assert refused.status_code == 200
    assert VirtualMachine.objects.filter(pk=present.pk).exists()
    assert client.post(url, {"action": "forget", "vms": [gone.pk]}).status_code == 302
    assert not VirtualMachine.objects.filter(pk=gone.pk).exists()
