"""Registering and editing a cluster: validation, and credentials encrypted at rest."""

import pytest
from django.db import connection
from django.urls import reverse

from clusters.models import Cluster
from tests.clusters.factories import make_cluster

pytestmark = pytest.mark.django_db

GANETI = {
    "name": "Lab cluster",
    "slug": "lab",
    "kind": "ganeti",
    "rapi_host": "127.0.0.1",
    "rapi_port": "5080",
    "rapi_user": "gwtest",
    "rapi_password": "s3cret-pass",
    "certificate_trust": "pinned",
}


def test_an_admin_registers_a_ganeti_cluster_and_its_password_is_stored_encrypted(
    client, superuser, worker, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clusters:create"), GANETI)
    assert response.status_code == 302
    cluster = Cluster.objects.get(slug="lab")
    assert cluster.rapi_password == "s3cret-pass"
    with connection.cursor() as cursor:
        cursor.execute("SELECT rapi_password FROM clusters_cluster WHERE id = %s", [cluster.pk])
        stored = cursor.fetchone()[0]
    assert "s3cret-pass" not in stored and stored.startswith("gAAAA")
    # The connection test and the first sync wait for a worker.
    assert worker.queued() == 2


def test_the_connection_form_never_shows_the_password_and_keeps_it_when_left_empty(
    client, superuser
):
    cluster = make_cluster("lab", rapi_password="s3cret-pass")
    client.force_login(superuser)
    connection_page = reverse("clusters:connection", args=["lab"])
    assert "s3cret-pass" not in client.get(connection_page).content.decode()
    data = {**GANETI, "rapi_password": "", "rapi_user": "other"}
    assert client.post(connection_page, data).status_code == 302
    cluster.refresh_from_db()
    assert cluster.rapi_user == "other"
    assert cluster.rapi_password == "s3cret-pass"


def test_the_edit_form_changes_the_name_and_description(client, superuser):
    cluster = make_cluster("lab")
    client.force_login(superuser)
    data = {"name": "Lab two", "description": "now described"}
    data |= {"memory_warning_percent": 90, "disk_warning_percent": 90}
    assert client.post(reverse("clusters:edit", args=["lab"]), data).status_code == 302
    cluster.refresh_from_db()
    assert (cluster.name, cluster.description) == ("Lab two", "now described")


def _stored_vnc_password(cluster):
    with connection.cursor() as cursor:
        cursor.execute("SELECT vnc_password FROM clusters_cluster WHERE id = %s", [cluster.pk])
        return cursor.fetchone()[0]


def test_the_vnc_password_is_stored_encrypted_never_shown_kept_and_forgotten(client, superuser):
    cluster = make_cluster("lab", rapi_password="s3cret-pass")
    client.force_login(superuser)
    edit = reverse("clusters:connection", args=["lab"])
    unchanged = {**GANETI, "rapi_password": ""}

    assert client.post(edit, {**unchanged, "vnc_password": "vncpass1\n"}).status_code == 302
    cluster.refresh_from_db()
    assert cluster.vnc_password == "vncpass1"
    assert _stored_vnc_password(cluster).startswith("gAAAA")
    assert "vncpass1" not in client.get(edit).content.decode()

    client.post(edit, {**unchanged, "rapi_user": "kept"})
    cluster.refresh_from_db()
    assert (cluster.rapi_user, cluster.vnc_password) == ("kept", "vncpass1")

    client.post(edit, {**unchanged, "forget_vnc_password": "on"})
    cluster.refresh_from_db()
    assert cluster.vnc_password == "" and _stored_vnc_password(cluster) == ""


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"rapi_host": ""}, "rapi_host", "A Ganeti cluster needs this."),
        ({"rapi_password": ""}, "rapi_password", "A Ganeti cluster needs this."),
        ({"pinned_fingerprint": "AB:CD"}, "pinned_fingerprint", "64 hexadecimal digits"),
        ({"certificate_trust": "ca"}, "ca_bundle", "Paste the CA certificate"),
        ({"certificate_trust": "ca", "ca_bundle": "junk"}, "ca_bundle", "not a PEM"),
        ({"kind": "libvirt", "libvirt_uris": "http://x"}, "libvirt_uris", "only the QEMU"),
        ({"kind": "libvirt", "libvirt_uris": "qemu:///system"}, "on_this_machine", "own libvirtd"),
        ({"kind": "libvirt", "libvirt_uris": ""}, "libvirt_uris", "at least one host URI"),
        ({"slug": "has spaces"}, "slug", "valid"),
    ],
)
def test_bad_input_gets_a_clear_error_beside_its_field(client, superuser, changes, field, message):
    client.force_login(superuser)
    response = client.post(reverse("clusters:create"), {**GANETI, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not Cluster.objects.exists()


def test_a_fingerprint_is_stored_in_one_canonical_form(client, superuser):
    client.force_login(superuser)
    raw = "ab" * 32
    client.post(reverse("clusters:create"), {**GANETI, "pinned_fingerprint": raw})
    assert Cluster.objects.get().pinned_fingerprint == ":".join(["AB"] * 32)


def test_a_libvirt_cluster_takes_one_uri_per_line(client, superuser):
    client.force_login(superuser)
    data = {
        "name": "hosts",
        "slug": "hosts",
        "kind": "libvirt",
        "libvirt_uris": "qemu:///system\n\n qemu+tcp://192.0.2.12/system \n",
        "rapi_port": "5080",
        "certificate_trust": "pinned",
        "on_this_machine": "on",
    }
    assert client.post(reverse("clusters:create"), data).status_code == 302
    assert Cluster.objects.get().uri_list == ["qemu:///system", "qemu+tcp://192.0.2.12/system"]


def test_only_administrators_register_clusters(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("clusters:create")).status_code == 403
    assert client.post(reverse("clusters:create"), GANETI).status_code == 403
