"""Smoke tests against the real single-node Ganeti cluster of scripts/ganeti-testbed.

They talk to Ganeti's RAPI over HTTPS from the host, as the web application will.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from testbed.ganeti import GanetiTestbed, RapiError, instance_body

FILE_STORAGE_DIR = "/srv/ganeti/file-storage"


@pytest.fixture
def instance_name(ganeti_cluster: GanetiTestbed):
    """A name no earlier run used; the instance is removed afterwards even if the test failed."""
    # name_check is off, so the name need not resolve inside the node.
    name = f"t-{secrets.token_hex(4)}.gwtest.example"
    yield name
    _remove_if_present(ganeti_cluster, name)


def test_rapi_answers_version_2_over_https(ganeti_cluster: GanetiTestbed) -> None:
    assert ganeti_cluster.base_url.startswith("https://")
    assert ganeti_cluster.rapi("GET", "/version") == 2


def test_rapi_refuses_requests_without_credentials(ganeti_cluster: GanetiTestbed) -> None:
    # The same pinned TLS session, but an auth hook that adds no Authorization header.
    response = ganeti_cluster.session.get(
        ganeti_cluster.base_url + "/2/info", auth=lambda request: request, timeout=30
    )
    assert response.status_code == 401


def test_the_cluster_reports_its_name_and_master(ganeti_cluster: GanetiTestbed) -> None:
    info = ganeti_cluster.rapi("GET", "/2/info")
    assert info["name"] == ganeti_cluster.cluster_name
    assert info["master"] == ganeti_cluster.master_node
    assert set(info["enabled_disk_templates"]) >= {"diskless", "file"}


def test_it_creates_starts_and_removes_a_diskless_instance(
    ganeti_cluster: GanetiTestbed,
    instance_name: str,
) -> None:
    _create_and_check_running(ganeti_cluster, instance_name, "diskless", disks=[])

    _shut_down_and_check(ganeti_cluster, instance_name)
    _remove_and_check_gone(ganeti_cluster, instance_name)


def test_it_creates_starts_and_removes_a_file_instance_with_a_64_mib_disk(
    ganeti_cluster: GanetiTestbed,
    instance_name: str,
) -> None:
    instance = _create_and_check_running(
        ganeti_cluster, instance_name, "file", disks=[{"size": 64}]
    )
    assert instance["disk.sizes"] == [64]
    sizes = ganeti_cluster.gnt(
        "find", f"{FILE_STORAGE_DIR}/{instance_name}", "-name", "*.disk0", "-printf", "%s\n"
    )
    assert sizes.split() == [str(64 * 1024 * 1024)]

    _shut_down_and_check(ganeti_cluster, instance_name)
    _remove_and_check_gone(ganeti_cluster, instance_name)
    leftovers = ganeti_cluster.gnt("find", FILE_STORAGE_DIR, "-name", instance_name)
    assert leftovers == ""


# ------------------------------------------------------------------ helpers --


def _create_and_check_running(
    cluster: GanetiTestbed, name: str, disk_template: str, disks: list[dict[str, Any]]
) -> dict[str, Any]:
    body = instance_body(name, disk_template=disk_template, disks=disks)
    job = _run_job(cluster, "POST", "/2/instances", body)
    assert job["opresult"] == [[cluster.master_node]]  # chosen by hail

    instance = cluster.rapi("GET", f"/2/instances/{name}")
    assert instance["status"] == "running"
    assert instance["admin_state"] == "up"
    assert instance["pnode"] == cluster.master_node
    assert instance["disk_template"] == disk_template
    return instance


def _shut_down_and_check(cluster: GanetiTestbed, name: str) -> None:
    _run_job(cluster, "PUT", f"/2/instances/{name}/shutdown", {"timeout": 10})
    instance = cluster.rapi("GET", f"/2/instances/{name}")
    assert instance["status"] == "ADMIN_down"
    assert instance["admin_state"] == "down"


def _remove_and_check_gone(cluster: GanetiTestbed, name: str) -> None:
    _run_job(cluster, "DELETE", f"/2/instances/{name}")
    with pytest.raises(RapiError) as excinfo:
        cluster.rapi("GET", f"/2/instances/{name}")
    assert excinfo.value.status == 404


def _run_job(cluster: GanetiTestbed, method: str, path: str, body: Any = None) -> dict[str, Any]:
    job_id = cluster.rapi(method, path, body)
    assert isinstance(job_id, int | str), f"{method} {path} answered {job_id!r}, not a job id"
    job = cluster.wait_for_job(job_id)
    assert job["status"] == "success", (
        f"job {job_id} ({method} {path}) ended {job['status']}: {job['opresult']}\n"
        + "\n".join(str(entry) for entry in job["oplog"])
    )
    return job


def _remove_if_present(cluster: GanetiTestbed, name: str) -> None:
    try:
        cluster.rapi("GET", f"/2/instances/{name}")
    except RapiError as exc:
        if exc.status == 404:
            return
        raise
    job_id = cluster.rapi("DELETE", f"/2/instances/{name}")
    cluster.wait_for_job(job_id)
