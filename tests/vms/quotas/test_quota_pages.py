"""The cluster admins' quota pages, and the quota bars on the dashboard and the create form."""

from django.urls import reverse

from vms.models import Quota, VirtualMachine


def test_the_cluster_admin_sees_each_owners_usage_and_sets_their_quota(
    client, cluster_admin, creator, cluster, default_quota
):
    VirtualMachine.objects.create(
        cluster=cluster, name="web", owner_user=creator, actual_state="running", memory=512
    )
    client.force_login(cluster_admin)

    page = client.get(reverse("vms:cluster_quotas", args=[cluster.slug])).content.decode()
    assert "maya" in page and "512 MiB / 1.0 GiB" in page

    edit = reverse("vms:owner_quota", args=[cluster.slug, f"user:{creator.pk}"])
    response = client.post(edit, {"memory": "2048", "vms": ""})

    assert response.status_code == 302
    quota = Quota.objects.get(owner_user=creator)
    assert (quota.use_default, quota.memory, quota.vms) == (False, 2048, None)
    page = client.get(reverse("vms:cluster_quotas", args=[cluster.slug])).content.decode()
    assert "512 MiB / 2.0 GiB" in page


def test_the_default_quota_is_set_on_the_cluster_page(client, cluster_admin, cluster):
    client.force_login(cluster_admin)
    client.post(reverse("vms:cluster_quotas", args=[cluster.slug]), {"memory": "4096", "vms": "5"})

    default = Quota.objects.get(cluster=cluster, owner_user=None, owner_group=None)
    assert (default.memory, default.vms, default.disk) == (4096, 5, None)


def test_the_dashboard_and_the_create_form_show_the_users_quota(
    client, creator, cluster, default_quota
):
    client.force_login(creator)

    dashboard = client.get(reverse("dashboard")).content.decode()
    create = client.get(reverse("vms:create", args=[cluster.slug])).content.decode()

    for page in (dashboard, create):
        assert "0 MiB / 1.0 GiB" in page and "0 / 3" in page
