"""Evidence that a group deployed Ganeti: plain Python over the project's RAPI backend.

``collect(backend)`` asks the cluster, read-only, and returns one Evidence per check, in
CheckName order, each with a message key and parameters (courses.messages turns them into a
sentence in the reader's language). A cluster that cannot be reached fails the first check
with the backend's reason and leaves the others "not checked"; collect() itself does not raise
a BackendError. No Django imports, so it runs and is tested alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clusters.backends.base import BackendError, CertificateMismatch
from clusters.backends.ganeti_parse import job_log_entries, parse_instances, parse_nodes

ORDER = ["reachable", "version", "nodes", "replicated", "not_replicated", "migration", "verify"]
MIGRATIONS = ("OP_INSTANCE_MIGRATE", "OP_INSTANCE_FAILOVER", "OP_NODE_MIGRATE")
VERIFY = "OP_CLUSTER_VERIFY"
VERIFY_PARTS = ("OP_CLUSTER_VERIFY_CONFIG", "OP_CLUSTER_VERIFY_GROUP")
MIN_NODES = 2
# How many of a failed verify's error lines to keep as evidence.
VERIFY_ERRORS_KEPT = 5


@dataclass
class Evidence:
    name: str
    passed: bool
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def unreachable(message: str, params: dict | None = None) -> list[Evidence]:
    """The results when the cluster cannot be asked anything."""
    first = Evidence("reachable", False, message, params or {})
    return [first] + [Evidence(name, False, "not_checked") for name in ORDER[1:]]


def collect(backend: Any, address: str = "", user: str = "") -> list[Evidence]:
    try:
        report = backend.test_connection()
    except CertificateMismatch as exc:
        if exc.fingerprint and "not trusted" in str(exc):
            return unreachable("untrusted", {"fingerprint": exc.fingerprint})
        return unreachable("unreachable", {"error": str(exc), "fingerprint": exc.fingerprint})
    except BackendError as exc:
        return unreachable("unreachable", {"error": str(exc)})
    results = [
        Evidence(
            "reachable",
            True,
            "reachable",
            {"address": address, "cluster": report.cluster_name, "user": user},
        ),
        _version(report.software_version),
    ]
    results.append(_guarded("nodes", lambda: _nodes(backend)))
    instances = _guarded_value(lambda: parse_instances(backend.get("/2/instances", {"bulk": 1})))
    results.extend(_instances(instances))
    jobs = _guarded_value(lambda: backend.get("/2/jobs", {"bulk": 1}))
    results.append(_guarded("migration", lambda: _migration(_value(jobs))))
    results.append(_guarded("verify", lambda: _verify(backend, _value(jobs))))
    return results


def _version(version: str) -> Evidence:
    match = re.match(r"(\d+)\.(\d+)", version or "")
    if match is None or int(match.group(1)) < 2:
        return Evidence("version", False, "version_unknown", {"version": version or "?"})
    return Evidence("version", True, "version", {"version": version})


def _nodes(backend) -> Evidence:
    nodes = parse_nodes(backend.get("/2/nodes", {"bulk": 1}))
    listed = [[node.name, node.role] for node in nodes]
    usable = [node for node in nodes if node.role not in ("offline", "drained")]
    if len(usable) >= MIN_NODES:
        return Evidence("nodes", True, "nodes_enough", {"count": len(nodes), "nodes": listed})
    return Evidence("nodes", False, "nodes_too_few", {"count": len(nodes), "nodes": listed})


def _instances(instances) -> list[Evidence]:
    if isinstance(instances, BackendError):
        error = {"error": str(instances)}
        return [
            Evidence("replicated", False, "check_error", error),
            Evidence("not_replicated", False, "check_error", error),
        ]
    drbd = [[vm.name, vm.disk_template] for vm in instances if vm.disk_template == "drbd"]
    other = [[vm.name, vm.disk_template] for vm in instances if vm.disk_template != "drbd"]
    return [
        Evidence("replicated", True, "replicated_found", {"vms": drbd})
        if drbd
        else Evidence("replicated", False, "replicated_missing"),
        Evidence("not_replicated", True, "not_replicated_found", {"vms": other})
        if other
        else Evidence("not_replicated", False, "not_replicated_missing"),
    ]


def _op_ids(job: dict) -> list[str]:
    return [op.get("OP_ID", "") for op in job.get("ops") or [] if isinstance(op, dict)]


def _when(job: dict) -> str:
    stamp = job.get("end_ts") or job.get("received_ts")
    if not stamp:
        return "?"
    return datetime.fromtimestamp(stamp[0], UTC).strftime("%Y-%m-%d %H:%M UTC")


def _migration(jobs: list) -> Evidence:
    found = [
        (job, op)
        for job in jobs
        if isinstance(job, dict) and job.get("status") == "success"
        for op in _op_ids(job)
        if op in MIGRATIONS
    ]
    if not found:
        return Evidence("migration", False, "migration_missing")
    job, op = max(found, key=lambda pair: int(pair[0].get("id", 0)))
    return Evidence(
        "migration",
        True,
        "migration_found",
        {"job": job["id"], "operation": op, "when": _when(job)},
    )


def _verify(backend, jobs: list) -> Evidence:
    verify_jobs = [
        job
        for job in jobs
        if isinstance(job, dict) and any(op in (VERIFY, *VERIFY_PARTS) for op in _op_ids(job))
    ]
    if not verify_jobs:
        return Evidence("verify", False, "verify_missing")
    latest = max(verify_jobs, key=lambda job: int(job.get("id", 0)))
    full = backend.get(f"/2/jobs/{latest['id']}")
    batch = [full]
    if VERIFY in _op_ids(full):
        # gnt-cluster verify submits one job that submits the real checks as child jobs.
        for result in full.get("opresult") or []:
            for ok, child in (result or {}).get("jobs", []) if isinstance(result, dict) else []:
                if ok:
                    batch.append(backend.get(f"/2/jobs/{child}"))
    passed = all(
        job.get("status") == "success"
        and all(res is not False for res in job.get("opresult") or [])
        for job in batch
    )
    params = {"job": latest["id"], "when": _when(full)}
    if passed:
        return Evidence("verify", True, "verify_passed", params)
    errors = [
        message.strip().removeprefix("- ")
        for job in batch
        for _serial, _time, message in job_log_entries(job)
        if "ERROR" in message
    ]
    params["errors"] = errors[:VERIFY_ERRORS_KEPT]
    return Evidence("verify", False, "verify_failed", params)


def _guarded(name, check) -> Evidence:
    try:
        return check()
    except BackendError as exc:
        return Evidence(name, False, "check_error", {"error": str(exc)})


def _guarded_value(read):
    try:
        return read()
    except BackendError as exc:
        return exc


def _value(value):
    if isinstance(value, BackendError):
        raise value
    return value
