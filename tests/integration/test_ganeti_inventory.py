"""Register the real Ganeti test cluster through the form and keep its inventory in sync.

Everything goes through the application: the form, RQ jobs on a real Redis run by a worker,
the Ganeti backend over HTTPS to the cluster in its network namespace.
"""

import secrets

import pytest
from django.urls import reverse
from django.utils.html import escape

from clusters.models import Cluster, Node
from testbed.ganeti import instance_body
from vms.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def register(admin_client, worker, ganeti_cluster, django_capture_on_commit_callbacks):
    """Register the test cluster through the form with the given changes; run its jobs."""

    def submit(**changes):
        data = {
            "name": "Test Ganeti",
            "slug": "gwtest",
            "kind": "ganeti",
            "rapi_host": ganeti_cluster.rapi_host,
            "rapi_port": str(ganeti_cluster.rapi_port),
            "rapi_user": ganeti_cluster.rapi_user,
            "rapi_password": ganeti_cluster.rapi_password,
            "certificate_trust": "pinned",
            **changes,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("clusters:create"), data)
        assert response.status_code == 302, response.context["form"].errors
        assert worker.run() == 0
        return Cluster.objects.get(slug="gwtest")

    return submit


@pytest.fixture
def instance(ganeti_cluster):
    """A diskless instance created directly through RAPI (outside the application)."""
    name = f"inv-{secrets.token_hex(3)}.gwtest.example"
    job = ganeti_cluster.rapi("POST", "/2/instances", instance_body(name, memory=128))
    assert ganeti_cluster.wait_for_job(job)["status"] == "success"
    yield name
    try:
        removal = ganeti_cluster.rapi("DELETE", f"/2/instances/{name}")
        ganeti_cluster.wait_for_job(removal)
    except Exception:  # noqa: BLE001, S110  (the test may have removed it already)
        pass


def _sync(admin_client, worker, cluster, capture):
    with capture(execute=True):
        admin_client.post(reverse("clusters:sync", args=[cluster.slug]))
    assert worker.run() == 0
    cluster.refresh_from_db()
    return cluster


def test_an_admin_registers_the_cluster_confirms_its_certificate_and_sees_it_synced(
    register, admin_client, worker, ganeti_cluster, instance, django_capture_on_commit_callbacks
):
    cluster = register()
    # First contact: the certificate is not trusted yet, and no password was sent.
    assert cluster.seen_fingerprint
    assert cluster.connection_test["state"] == "failed"
    assert "not trusted" in cluster.connection_test["message"]
    page = admin_client.get(cluster.get_absolute_url())
    assert page.status_code == 200
    assert cluster.seen_fingerprint.encode() in page.content

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("clusters:trust", args=[cluster.slug]),
            {"fingerprint": cluster.seen_fingerprint},
        )
    assert worker.run() == 0
    cluster.refresh_from_db()
    assert cluster.pinned_fingerprint and not cluster.seen_fingerprint
    assert cluster.connection_test["state"] == "succeeded"
    assert cluster.last_sync_error == "" and cluster.last_sync_at is not None
    assert cluster.software_version.startswith("3.")
    assert "noop" in cluster.operating_systems
    master = Node.objects.get(cluster=cluster, name=ganeti_cluster.master_node)
    assert master.role == "master"
    vm = VirtualMachine.objects.get(cluster=cluster, name=instance)
    assert (vm.actual_state, vm.wanted_state, vm.memory, vm.disk_template) == (
        "running",
        "up",
        128,
        "diskless",
    )
    assert vm.primary_node == master
    assert admin_client.get(vm.get_absolute_url()).status_code == 200


def test_an_instance_removed_on_the_cluster_is_marked_missing_and_keeps_its_owner(
    register,
    admin_client,
    worker,
    ganeti_cluster,
    instance,
    outsider,
    django_capture_on_commit_callbacks,
):
    cluster = register(pinned_fingerprint=ganeti_cluster.cert_sha256)
    assert cluster.last_sync_error == ""
    VirtualMachine.objects.filter(cluster=cluster, name=instance).update(owner_user=outsider)
    ganeti_cluster.wait_for_job(ganeti_cluster.rapi("DELETE", f"/2/instances/{instance}"))
    _sync(admin_client, worker, cluster, django_capture_on_commit_callbacks)
    vm = VirtualMachine.objects.get(cluster=cluster, name=instance)
    assert vm.missing is True
    assert vm.owner_user == outsider
    import_page = admin_client.get(reverse("clusters:import", args=[cluster.slug]))
    assert instance in [v.name for v in import_page.context["missing"]]


def test_a_wrong_password_is_a_readable_error_and_the_pages_still_render(
    register, admin_client, ganeti_cluster
):
    cluster = register(pinned_fingerprint=ganeti_cluster.cert_sha256, rapi_password="wrong")
    assert "password" in cluster.last_sync_error.lower()
    for url in (cluster.get_absolute_url(), reverse("vms:cluster_list"), reverse("dashboard")):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert escape(cluster.last_sync_error) in response.content.decode()


def test_a_wrong_certificate_is_refused_and_named(register, admin_client):
    cluster = register(pinned_fingerprint="AB" * 32)
    assert "certificate" in cluster.last_sync_error.lower()
    assert cluster.seen_fingerprint  # what the cluster presented, for the admin to compare
    assert admin_client.get(cluster.get_absolute_url()).status_code == 200


def test_rapi_down_is_a_readable_error(register, admin_client, ganeti_cluster):
    # Nothing listens on port 5081 of the node: as if ganeti-rapi were stopped.
    cluster = register(rapi_port="5081", pinned_fingerprint=ganeti_cluster.cert_sha256)
    assert "Cannot reach" in cluster.last_sync_error
    assert f"{ganeti_cluster.rapi_host}:5081" in cluster.last_sync_error
    assert admin_client.get(cluster.get_absolute_url()).status_code == 200
