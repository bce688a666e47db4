"""The VM list (search, filters, pagination) and the VM page."""

import pytest
from django.urls import reverse

from tests.clusters.factories import make_cluster, make_inventory
from vms.models import VirtualMachine
from vms.sync import store_inventory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha():
    cluster = make_cluster("alpha")
    store_inventory(cluster, make_inventory(vm_count=3))
    return cluster


def _names(response):
    return [vm.name for vm in response.context["page"].object_list]


def test_an_outsider_lists_only_their_own_vms(client, outsider, alpha):
    VirtualMachine.objects.filter(name="vm2.example.org").update(owner_user=outsider)
    client.force_login(outsider)
    assert _names(client.get(reverse("vms:list"))) == ["vm2.example.org"]


def test_a_vm_owned_by_the_users_group_is_visible(client, outsider, alpha):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="team")
    outsider.groups.add(team)
    VirtualMachine.objects.filter(name="vm3.example.org").update(owner_group=team)
    client.force_login(outsider)
    assert _names(client.get(reverse("vms:list"))) == ["vm3.example.org"]


def test_someone_elses_vm_is_a_404(client, outsider, alpha):
    client.force_login(outsider)
    url = reverse("vms:detail", args=["alpha", "vm1.example.org"])
    assert client.get(url).status_code == 404


def test_the_list_filters_by_search_state_cluster_node_and_owner(client, superuser, alpha):
    beta = make_cluster("beta")
    store_inventory(beta, make_inventory(vm_count=1, node_count=1))
    VirtualMachine.objects.filter(cluster=alpha, name="vm2.example.org").update(
        actual_state="stopped", owner_user=superuser
    )
    client.force_login(superuser)
    url = reverse("vms:list")
    assert _names(client.get(url, {"q": "vm3"})) == ["vm3.example.org"]
    assert _names(client.get(url, {"state": "stopped"})) == ["vm2.example.org"]
    assert len(_names(client.get(url, {"cluster": "beta"}))) == 1
    assert len(_names(client.get(url, {"node": "node1", "cluster": "alpha"}))) == 3
    assert _names(client.get(url, {"owner": "root"})) == ["vm2.example.org"]


def test_missing_vms_are_listed_only_when_asked_for(client, superuser, alpha):
    VirtualMachine.objects.filter(name="vm1.example.org").update(missing=True)
    client.force_login(superuser)
    assert "vm1.example.org" not in _names(client.get(reverse("vms:list")))
    assert _names(client.get(reverse("vms:list"), {"missing": "on"})) == ["vm1.example.org"]


def test_the_list_pages_fifty_at_a_time(client, superuser):
    store_inventory(make_cluster("big"), make_inventory(vm_count=120, node_count=2))
    client.force_login(superuser)
    first = client.get(reverse("vms:list"))
    assert len(_names(first)) == 50
    assert first.context["page"].paginator.num_pages == 3
    third = client.get(reverse("vms:list"), {"page": 3})
    assert len(_names(third)) == 20


def test_the_vm_list_keeps_its_query_count_whatever_the_size(
    client, superuser, django_assert_max_num_queries
):
    cluster = make_cluster("grow")
    store_inventory(cluster, make_inventory(vm_count=3))
    client.force_login(superuser)
    client.get(reverse("vms:list"))
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("vms:list"))
    store_inventory(cluster, make_inventory(vm_count=80))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("vms:list"))


def test_the_vm_page_shows_disks_nics_and_console_port(client, superuser, alpha):
    client.force_login(superuser)
    response = client.get(reverse("vms:detail", args=["alpha", "vm1.example.org"]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "aa:00:00:00:00:01" in content
    assert "10.0 GiB" in content
    assert ":11001" in content
