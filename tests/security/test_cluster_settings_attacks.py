"""A cluster administrator reaching beyond their cluster through its settings (issue 14,
critical), and the destination policy that keeps every cluster's RAPI client and libvirt
connections off this machine's own services.

The hostile cluster is a real HTTPS server started here (tests/security/hostile.py) that
counts the connections it receives; the workers are real RQ jobs on the test Redis.
"""

import json
import stat

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from guardian.shortcuts import assign_perm

from audit.models import AuditAction, AuditEntry
from clusters.backends.base import BackendError, LibvirtConnection
from clusters.backends.destinations import DestinationPolicy, ForbiddenDestination
from clusters.backends.libvirt import LibvirtBackend
from clusters.jobs import enqueue_connection_test
from clusters.models import Cluster
from clusters.services import backend_for
from tests.clusters.factories import make_cluster
from tests.personas import make_user
from tests.security.hostile import HostileRapi

pytestmark = pytest.mark.django_db

# What the admin's form shows, unchanged, besides the name and description.
THRESHOLDS = {"memory_warning_percent": "90", "disk_warning_percent": "90"}


@pytest.fixture
def hostile(tmp_path):
    with HostileRapi(tmp_path) as server:
        yield server


@pytest.fixture
def far_cluster():
    """A Ganeti cluster elsewhere (TEST-NET-1, never routed), not marked as on this machine."""
    return make_cluster(
        "far",
        rapi_host="192.0.2.250",
        rapi_port=5080,
        rapi_password="the-real-password",
        on_this_machine=False,
    )


def _test_connection(cluster, user, worker, capture):
    with capture(execute=True):
        enqueue_connection_test(cluster, user)
    worker.run()
    cluster.refresh_from_db()
    return cluster.connection_test


# --- connection settings are for superusers only


def test_a_cluster_admin_cannot_point_the_cluster_at_their_own_server(
    client_for, far_cluster, hostile, worker, django_capture_on_commit_callbacks
):
    admin = make_user("carla")
    assign_perm("admin", admin, far_cluster)
    client = client_for(admin)
    attack = {
        "name": "renamed",
        "description": "mine now",
        **THRESHOLDS,
        "rapi_host": "127.0.0.1",
        "rapi_port": str(hostile.port),
        "pinned_fingerprint": hostile.fingerprint,
        "certificate_trust": "pinned",
        "on_this_machine": "on",
        "libvirt_uris": "qemu:///system",
    }
    response = client.post(reverse("clusters:edit", args=["far"]), attack)
    assert response.status_code == 302
    assert client.post(reverse("clusters:connection", args=["far"]), attack).status_code == 403
    far_cluster.refresh_from_db()
    assert (far_cluster.name, far_cluster.description) == ("renamed", "mine now")
    assert (far_cluster.rapi_host, far_cluster.rapi_port) == ("192.0.2.250", 5080)
    assert not far_cluster.on_this_machine and far_cluster.pinned_fingerprint == ""

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("clusters:test", args=["far"])).status_code == 302
    worker.run()
    assert hostile.connections == 0 and hostile.authorizations == []


def test_a_cluster_admin_cannot_trust_a_certificate(client_for, far_cluster):
    admin = make_user("carla")
    assign_perm("admin", admin, far_cluster)
    Cluster.objects.filter(pk=far_cluster.pk).update(seen_fingerprint="AB:CD")
    response = client_for(admin).post(
        reverse("clusters:trust", args=["far"]), {"fingerprint": "AB:CD"}
    )
    assert response.status_code == 403
    far_cluster.refresh_from_db()
    assert far_cluster.pinned_fingerprint == ""


def test_every_cluster_change_is_audited_and_secrets_are_masked(client_for, superuser, far_cluster):
    client = client_for(superuser)
    data = {
        "slug": "far",
        "kind": "ganeti",
        "rapi_host": "192.0.2.251",
        "rapi_port": "5080",
        "rapi_user": "gw",
        "rapi_password": "a-new-secret",
        "vnc_password": "vncsecret",
        "certificate_trust": "pinned",
    }
    assert client.post(reverse("clusters:connection", args=["far"]), data).status_code == 302
    details = {"name": "Far away", "description": "", **THRESHOLDS}
    assert client.post(reverse("clusters:edit", args=["far"]), details).status_code == 302

    changes = [
        entry.details["changes"]
        for entry in AuditEntry.objects.filter(action=AuditAction.CLUSTER_CHANGE).order_by("pk")
    ]
    assert changes[0]["rapi_host"] == ["192.0.2.250", "192.0.2.251"]
    assert changes[0]["rapi_password"] == "changed" and changes[0]["vnc_password"] == "changed"
    assert changes[1] == {"name": ["far", "Far away"]}
    log_page = client.get(reverse("audit:list")).content.decode()
    stored = json.dumps(changes)
    for secret in ("a-new-secret", "vncsecret", "the-real-password"):
        assert secret not in stored and secret not in log_page
    assert "192.0.2.250 → 192.0.2.251" in log_page


def test_the_django_admin_uses_the_same_form_and_never_shows_a_secret(
    client_for, superuser, far_cluster
):
    Cluster.objects.filter(pk=far_cluster.pk).update(vnc_password="vncsecret")
    change_page = reverse("admin:clusters_cluster_change", args=[far_cluster.pk])
    page = client_for(superuser).get(change_page).content.decode()
    assert "vncsecret" not in page and "the-real-password" not in page
    assert 'name="forget_vnc_password"' in page

    staff = make_user("victor")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="change_cluster"))
    assert client_for(staff).get(change_page).status_code == 403


# --- libvirt URIs: known transports, no options that run programs or read files


HOSTILE_URIS = [
    "qemu+ssh://localhost/system?command={script}",
    "qemu+ssh://localhost/system?netcat={script}",
    "qemu+ext:///system?command={script}",
    "qemu+unix:///system?socket=/run/redis/redis.sock",
    "test:///etc/passwd",
    "qemu+ssh://root:pw@localhost/system",
    "qemu:///system#fragment",
    "qemu+tcp://localhost/elsewhere",
]


@pytest.fixture
def marker_script(tmp_path):
    """A program that leaves a file behind if anything runs it."""
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, marker


@pytest.mark.parametrize("template", HOSTILE_URIS)
def test_a_hostile_libvirt_uri_is_refused_by_the_form_and_never_reaches_libvirt(
    client_for, superuser, marker_script, template
):
    script, marker = marker_script
    uri = template.format(script=script)
    data = {
        "name": "evil",
        "slug": "evil",
        "kind": "libvirt",
        "libvirt_uris": uri,
        "rapi_port": "5080",
        "certificate_trust": "pinned",
        "on_this_machine": "on",
    }
    response = client_for(superuser).post(reverse("clusters:create"), data)
    assert response.status_code == 200
    assert "cannot be used" in " ".join(response.context["form"].errors["libvirt_uris"])
    assert not Cluster.objects.filter(slug="evil").exists()

    backend = LibvirtBackend(
        LibvirtConnection(uris=(uri,), timeout=5, policy=DestinationPolicy(on_this_machine=True))
    )
    with pytest.raises(BackendError, match="does not open the libvirt URI"):
        backend.test_connection()
    assert not marker.exists()


def test_a_local_libvirt_uri_needs_a_cluster_marked_as_on_this_machine(worker, superuser):
    cluster = make_cluster("sneaky", kind="libvirt", on_this_machine=False)
    backend = LibvirtBackend(
        LibvirtConnection(uris=("qemu:///system",), policy=DestinationPolicy())
    )
    with pytest.raises(ForbiddenDestination, match="this machine's own libvirtd"):
        backend.test_connection()
    with pytest.raises(ForbiddenDestination):
        backend_for(cluster).test_connection()


# --- the RAPI client never connects to this machine unless the cluster is marked so


@pytest.mark.parametrize(
    "spelling",
    ["127.1", "2130706433", "0x7f.0.0.1", "::ffff:127.0.0.1", "localhost", "0.0.0.0"],  # noqa: S104
)
def test_a_rapi_host_on_this_machine_is_refused_in_every_spelling(
    hostile, superuser, worker, django_capture_on_commit_callbacks, spelling
):
    cluster = make_cluster(
        "spelled",
        rapi_host=spelling,
        rapi_port=hostile.port,
        pinned_fingerprint=hostile.fingerprint,
        on_this_machine=False,
    )
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert outcome["state"] == "failed"
    assert "does not connect to" in outcome["message"]
    assert hostile.connections == 0 and hostile.authorizations == []


def test_the_same_server_answers_once_a_superuser_marks_the_cluster_as_on_this_machine(
    hostile, superuser, worker, django_capture_on_commit_callbacks
):
    cluster = make_cluster(
        "here",
        rapi_host="127.0.0.1",
        rapi_port=hostile.port,
        pinned_fingerprint=hostile.fingerprint,
        on_this_machine=True,
    )
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert outcome["state"] == "succeeded", outcome
    assert hostile.connections > 0


def test_the_rapi_client_refuses_this_deployments_own_services_even_on_this_machine(
    hostile, superuser, worker, settings, django_capture_on_commit_callbacks
):
    # The hostile server stands in for Redis: its port is one of this deployment's services.
    settings.RQ_QUEUES = {
        **settings.RQ_QUEUES,
        "probe": {"URL": f"redis://127.0.0.1:{hostile.port}/0"},
    }
    cluster = make_cluster(
        "redis",
        rapi_host="127.0.0.2",
        rapi_port=hostile.port,
        pinned_fingerprint=hostile.fingerprint,
        on_this_machine=True,
    )
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert "own services" in outcome["message"]
    assert hostile.connections == 0


def test_a_network_closed_by_the_setting_is_refused_even_on_this_machine(
    hostile, superuser, worker, settings, django_capture_on_commit_callbacks
):
    settings.CLUSTER_BLOCKED_NETWORKS = ["127.0.0.0/8"]
    cluster = make_cluster(
        "closed",
        rapi_host="127.0.0.1",
        rapi_port=hostile.port,
        pinned_fingerprint=hostile.fingerprint,
        on_this_machine=True,
    )
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert "closed to clusters" in outcome["message"]
    assert hostile.connections == 0


# --- a slow or endless answer ends at the deadline and the size cap


def test_a_trickling_rapi_answer_ends_at_the_request_deadline(
    hostile, superuser, worker, settings, django_capture_on_commit_callbacks
):
    hostile.mode = "trickle"
    settings.RAPI_REQUEST_DEADLINE = 2
    cluster = make_cluster(
        "slow", rapi_host="127.0.0.1", rapi_port=hostile.port, on_this_machine=True
    )
    Cluster.objects.filter(pk=cluster.pk).update(pinned_fingerprint=hostile.fingerprint)
    cluster.refresh_from_db()
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert outcome["state"] == "failed"
    assert "did not finish answering GET /version within 2 s" in outcome["message"]


def test_an_endless_rapi_answer_is_cut_at_the_size_cap(
    hostile, superuser, worker, settings, django_capture_on_commit_callbacks
):
    hostile.mode = "endless"
    settings.RAPI_MAX_ANSWER_MB = 1
    cluster = make_cluster(
        "huge",
        rapi_host="127.0.0.1",
        rapi_port=hostile.port,
        pinned_fingerprint=hostile.fingerprint,
        on_this_machine=True,
    )
    outcome = _test_connection(cluster, superuser, worker, django_capture_on_commit_callbacks)
    assert outcome["state"] == "failed"
    assert "more than 1 MiB" in outcome["message"]
