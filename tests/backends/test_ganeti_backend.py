"""GanetiBackend against the real single-node Ganeti cluster of scripts/ganeti-testbed.

The cluster keeps Ganeti's own self-signed RAPI certificate, so it is trusted by its pin.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests

from clusters.backends.base import (
    AuthenticationFailed,
    CertificateMismatch,
    GanetiConnection,
    NotFound,
    OperationFailed,
    Unreachable,
)
from clusters.backends.ganeti import GanetiBackend, fetch_certificate_fingerprint
from testbed.ganeti import GanetiTestbed, instance_body


def settings(cluster: GanetiTestbed, **changes) -> GanetiConnection:
    fields = {
        "host": cluster.rapi_host,
        "port": cluster.rapi_port,
        "username": cluster.rapi_user,
        "password": cluster.rapi_password,
        "pinned_fingerprint": cluster.cert_sha256,
        "timeout": 30,
        **changes,
    }
    return GanetiConnection(**fields)


@pytest.fixture
def backend(ganeti_cluster: GanetiTestbed) -> Iterator[GanetiBackend]:
    backend = GanetiBackend(settings(ganeti_cluster))
    yield backend
    backend.close()


def create_body(name: str) -> dict:
    return instance_body(name, nics=[])


@pytest.fixture(scope="module")
def created(ganeti_cluster: GanetiTestbed) -> Iterator[dict]:
    """A diskless instance created through the backend, with the log lines of its job."""
    backend = GanetiBackend(settings(ganeti_cluster))
    name = f"t-{secrets.token_hex(4)}.gwtest.example"
    lines: list[tuple] = []
    job_id = backend.post("/2/instances", create_body(name))
    try:
        job = backend.wait_for_job(job_id, on_log=lambda *line: lines.append(line), poll=0.2)
        yield {"name": name, "job_id": job_id, "job": job, "lines": lines}
    finally:
        backend.wait_for_job(backend.delete(f"/2/instances/{name}"), poll=0.2, timeout=120)
        backend.close()


# --- certificate and credentials


def test_it_reads_the_fingerprint_of_the_rapi_certificate(ganeti_cluster):
    fingerprint = fetch_certificate_fingerprint(ganeti_cluster.rapi_host, ganeti_cluster.rapi_port)

    assert fingerprint.replace(":", "").lower() == ganeti_cluster.cert_sha256
    assert fingerprint == fingerprint.upper()
    assert len(fingerprint.split(":")) == 32


def test_it_connects_with_the_pinned_fingerprint(ganeti_cluster):
    fingerprint = fetch_certificate_fingerprint(ganeti_cluster.rapi_host, ganeti_cluster.rapi_port)
    backend = GanetiBackend(settings(ganeti_cluster, pinned_fingerprint=fingerprint))

    report = backend.test_connection()

    assert report.cluster_name == ganeti_cluster.cluster_name
    assert report.software_version.startswith("3.")
    assert report.node_count == 1
    assert report.certificate_fingerprint == fingerprint


def test_a_wrong_pin_is_refused_with_the_fingerprint_seen(ganeti_cluster):
    backend = GanetiBackend(settings(ganeti_cluster, pinned_fingerprint="12" * 32))

    with pytest.raises(CertificateMismatch, match="not the pinned") as caught:
        backend.test_connection()

    assert caught.value.fingerprint.replace(":", "").lower() == ganeti_cluster.cert_sha256


def test_without_trust_it_sends_no_request_and_shows_the_fingerprint(ganeti_cluster, monkeypatch):
    sent = []
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter, "send", lambda _self, request, **kw: sent.append(request)
    )
    backend = GanetiBackend(settings(ganeti_cluster, pinned_fingerprint=""))

    with pytest.raises(CertificateMismatch, match="not trusted yet") as caught:
        backend.test_connection()

    assert caught.value.fingerprint.replace(":", "").lower() == ganeti_cluster.cert_sha256
    assert sent == []


def test_its_own_certificate_as_ca_fails_because_it_names_no_address(ganeti_cluster):
    with open(ganeti_cluster.cert_path) as cert:
        ca_bundle = cert.read()
    backend = GanetiBackend(
        settings(ganeti_cluster, pinned_fingerprint="", ca_bundle_pem=ca_bundle)
    )

    with pytest.raises(CertificateMismatch, match=f"not valid for '{ganeti_cluster.rapi_host}'"):
        backend.test_connection()


def test_a_wrong_password_is_refused(ganeti_cluster):
    backend = GanetiBackend(settings(ganeti_cluster, password="not the password"))

    with pytest.raises(
        AuthenticationFailed, match=f"refused the user name '{ganeti_cluster.rapi_user}'"
    ):
        backend.test_connection()


def test_a_port_where_nothing_listens_is_unreachable(ganeti_cluster):
    backend = GanetiBackend(settings(ganeti_cluster, host=ganeti_cluster.node_address, port=1))

    with pytest.raises(Unreachable) as caught:
        backend.test_connection()

    assert str(caught.value) == (
        f"Cannot reach the Ganeti cluster at {ganeti_cluster.node_address}:1: connection refused."
    )


# --- inventory


def test_the_inventory_has_the_master_node_and_the_noop_os(backend, ganeti_cluster):
    inventory = backend.fetch_inventory()

    assert inventory.info.name == ganeti_cluster.cluster_name
    assert "diskless" in inventory.info.enabled_disk_templates
    [node] = inventory.nodes
    assert (node.name, node.role) == (ganeti_cluster.master_node, "master")
    assert node.address == ganeti_cluster.node_address
    assert node.memory_total > 0
    assert node.cpus > 0
    assert "noop" in inventory.operating_systems


def test_the_inventory_shows_a_new_instance_running(backend, created, ganeti_cluster):
    vms = {vm.name: vm for vm in backend.fetch_inventory().vms}

    vm = vms[created["name"]]
    assert (vm.wanted_state, vm.actual_state, vm.status) == ("up", "running", "running")
    assert (vm.memory, vm.vcpus) == (64, 1)
    assert (vm.disk_template, vm.disks, vm.nics) == ("diskless", [], [])
    assert vm.primary_node == ganeti_cluster.master_node
    assert vm.os == "noop"
    assert vm.created_at is not None


# --- jobs


def test_wait_for_job_copies_the_log_of_the_creation_once(created):
    lines = created["lines"]

    serials = [serial for serial, _, _ in lines]
    assert serials == sorted(set(serials))
    assert any("starting instance" in message for _, _, message in lines)
    assert all(when.tzinfo is not None for _, when, _ in lines)
    assert created["job"]["status"] == "success"


def test_wait_for_job_raises_ganetis_reason_when_the_name_is_in_use(backend, created):
    job_id = backend.post("/2/instances", create_body(created["name"]))

    with pytest.raises(OperationFailed) as caught:
        backend.wait_for_job(str(job_id), poll=0.2)

    assert str(caught.value) == (
        f"Ganeti job {job_id} failed: Instance '{created['name']}' is already in the cluster "
        "(already_exists)."
    )


def test_an_unknown_job_is_not_found(backend):
    with pytest.raises(NotFound, match="has no job 987654"):
        backend.wait_for_job(987654)


def test_an_unknown_instance_is_not_found(backend):
    with pytest.raises(NotFound, match="nothing at /2/instances/no-such-instance"):
        backend.get("/2/instances/no-such-instance")


def test_an_invalid_creation_is_refused_with_ganetis_reason(backend):
    with pytest.raises(OperationFailed, match=r"fails validation.*\(HTTP 400\)"):
        backend.post("/2/instances", {"__version__": 1})
