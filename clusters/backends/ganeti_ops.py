"""The lifecycle operations of a Ganeti cluster, as RAPI jobs.

Every operation is one or more Ganeti jobs. Each job id goes to ``Progress.remote_job`` as soon
as RAPI returns it, so that a worker that dies can have its successor follow the same job; then
the job is followed to its end with its oplog copied, line by line, into ``Progress.log``.
A refusal (in RAPI's answer or in the job) raises OperationFailed with Ganeti's own reason.

Node migration and evacuation are jobs whose result lists child jobs, one per instance; they
are followed too, and the operation fails with every child's reason if any failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .base import (
    MalformedAnswer,
    NicSpec,
    NotFound,
    OperationFailed,
    Operations,
    Progress,
    VMChanges,
    VMInfo,
    VMSpec,
)
from .ganeti_parse import parse_instances, parse_job_id

if TYPE_CHECKING:
    from .ganeti import OnLog

NODE_ROLES = ("offline", "drained", "regular")
NODE_EVACUATION_ALLOCATOR = "hail"
EVACUATION_MODES = ("secondary-only", "primary-only")


class GanetiOperations(Operations):
    """The Operations of GanetiBackend, a mixin: it uses the backend's RAPI calls (``get``,
    ``put``, ``post``, ``delete``) and ``wait_for_job``."""

    #: Seconds between two polls of a running job; a job takes a second or more.
    job_poll: float = 1.0

    if TYPE_CHECKING:
        # What the mixin uses of GanetiBackend, declared for the type checker only.
        def get(
            self, path: str, params: dict | None = None, *, timeout: float | None = None
        ) -> Any: ...
        def post(self, path: str, body: Any = None, params: dict | None = None) -> Any: ...
        def put(self, path: str, body: Any = None, params: dict | None = None) -> Any: ...
        def delete(self, path: str, body: Any = None, params: dict | None = None) -> Any: ...
        def wait_for_job(
            self,
            job_id: int | str,
            on_log: OnLog | None = None,
            poll: float = 1.0,
            timeout: float = 3600.0,
        ) -> dict: ...

    # --- instances

    def create_vm(self, spec: VMSpec, progress: Progress) -> None:
        body: dict[str, Any] = {
            "__version__": 1,
            "mode": "create",
            "name": spec.name,
            "disk_template": spec.disk_template,
            "disks": [{"size": size} for size in spec.disks],
            "nics": [nic_params(nic) for nic in spec.nics],
            "beparams": {"maxmem": spec.memory, "minmem": spec.memory, "vcpus": spec.vcpus},
            "start": spec.start,
            # Both default to True on Ganeti 3.0: the name would have to resolve on the master.
            "name_check": False,
            "ip_check": False,
            "tags": list(spec.tags),
        }
        if spec.os:
            body["os_type"] = spec.os
        if spec.iallocator:
            body["iallocator"] = spec.iallocator
        elif spec.primary_node:
            body["pnode"] = spec.primary_node
            if spec.secondary_node:
                body["snode"] = spec.secondary_node
        # With neither, Ganeti uses the cluster's default iallocator.
        self._run(f"Create {spec.name}", self.post("/2/instances", body), progress)

    def start_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        self._run(f"Start {vm}", self.put(_instance(vm, "startup")), progress)

    def shutdown_vm(self, vm: str, timeout: int, progress: Progress, uri: str = "") -> None:
        """Ganeti asks the guest to power off and forces it after `timeout` seconds."""
        body = {"timeout": timeout}
        self._run(f"Shut down {vm}", self.put(_instance(vm, "shutdown"), body), progress)

    def force_off_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        """A shutdown with a timeout of 0: Ganeti powers the instance off at once."""
        body = {"timeout": 0}
        self._run(f"Force off {vm}", self.put(_instance(vm, "shutdown"), body), progress)

    def reboot_vm(self, vm: str, progress: Progress, uri: str = "", hard: bool = False) -> None:
        kind = "hard" if hard else "soft"
        job_id = self.post(_instance(vm, "reboot"), params={"type": kind})
        self._run(f"Reboot {vm} ({kind})", job_id, progress)

    def migrate_vm(
        self,
        vm: str,
        progress: Progress,
        uri: str = "",
        target_node: str = "",
        target_uri: str = "",
    ) -> None:
        """Live-migrate; without a target Ganeti picks the secondary or asks its iallocator."""
        body = {"mode": "live"}
        if target_node:
            body["target_node"] = target_node
        self._run(f"Migrate {vm}", self.put(_instance(vm, "migrate"), body), progress)

    def failover_vm(self, vm: str, progress: Progress, target_node: str = "") -> None:
        body = {"target_node": target_node} if target_node else {}
        self._run(f"Fail over {vm}", self.put(_instance(vm, "failover"), body), progress)

    def modify_vm(self, vm: str, changes: VMChanges, progress: Progress, uri: str = "") -> None:
        """One modify job for memory, vCPUs and NICs, then one grow job per disk, in turn."""
        body = modify_body(changes)
        steps: list[tuple[str, Callable[..., Any], str, dict]] = []  # (what, submit, path, body)
        if body:
            steps.append((f"Modify {vm}", self.put, _instance(vm, "modify"), body))
        for index, amount in sorted(changes.grow_disks.items()):
            what = f"Grow disk {index} of {vm} by {amount} MiB"
            path = _instance(vm, f"disk/{index}/grow")
            steps.append((what, self.post, path, {"amount": amount}))
        if not steps:
            progress.log(f"Nothing to change on {vm}.")
            progress.percent(100)
            return
        for number, (what, submit, path, step_body) in enumerate(steps):
            span = (100 * number // len(steps), 100 * (number + 1) // len(steps))
            self._run(what, submit(path, step_body), progress, span)

    def rename_vm(self, vm: str, new_name: str, progress: Progress, uri: str = "") -> None:
        body = {"new_name": new_name, "name_check": False, "ip_check": False}
        self._run(f"Rename {vm} to {new_name}", self.put(_instance(vm, "rename"), body), progress)

    def reinstall_vm(self, vm: str, os: str, progress: Progress, uri: str = "") -> None:
        """One job: shut down, reinstall with `os`, start.

        The job shuts the instance down before Ganeti checks the reinstall, so when that step
        fails an instance that was running is started again, as it was.
        """
        before = self.read_vm(vm)
        if before.disk_template == "diskless":
            raise OperationFailed(f"{vm} has no disks, so there is no OS to reinstall.")
        job_id = self.post(_instance(vm, "reinstall"), {"os": os, "start": True})
        try:
            self._run(f"Reinstall {vm} with {os}", job_id, progress)
        except OperationFailed:
            if before.wanted_state == "up" and self.read_vm(vm).wanted_state == "down":
                again = self.put(_instance(vm, "startup"))
                self._run(f"Start {vm} again, as it was", again, progress, span=None)
            raise

    def delete_vm(self, vm: str, progress: Progress, uri: str = "") -> None:
        self._run(f"Remove {vm}", self.delete(_instance(vm)), progress)

    def read_vm(self, vm: str, uri: str = "") -> VMInfo:
        try:
            answer = self.get(_instance(vm))
        except NotFound:
            raise NotFound(f"The Ganeti cluster has no VM named {vm!r}.") from None
        [info] = parse_instances([answer])
        if info.vnc_port is not None and not info.vnc_host:
            # A console bound to every address is reached on the primary node's address.
            node = self.get(f"/2/nodes/{quote(info.primary_node, safe='')}")
            info.vnc_host = (node.get("pip") or "") if type(node) is dict else ""
        return info

    # --- nodes

    def set_node_role(self, node: str, role: str, progress: Progress) -> None:
        """Drain, offline, or bring back a node as a regular one.

        ``force`` lets Ganeti change a node that holds instances, ``auto-promote`` lets it
        promote another node when this one leaves the master candidates.
        """
        if role not in NODE_ROLES:
            raise OperationFailed(
                f"A node's role can be set to {', '.join(NODE_ROLES)}; not to {role!r}."
            )
        job_id = self.put(_node(node, "role"), role, params={"force": True, "auto-promote": True})
        self._run(f"Set the role of {node} to {role}", job_id, progress)

    def migrate_node(self, node: str, progress: Progress) -> None:
        job_id = self.post(_node(node, "migrate"), {"mode": "live"})
        self._run(f"Migrate the instances of {node}", job_id, progress)

    def evacuate_node(self, node: str, progress: Progress) -> None:
        """Two jobs, secondary instances first, then primary ones.

        Ganeti 3.0 refuses ``"mode": "all"`` with an iallocator ("Due to an issue with the
        iallocator interface it is not possible to evacuate all instances at once"), as
        ``gnt-node evacuate`` does without ``-p``/``-s``.
        """
        for number, mode in enumerate(EVACUATION_MODES):
            body = {"mode": mode, "iallocator": NODE_EVACUATION_ALLOCATOR}
            job_id = self.post(_node(node, "evacuate"), body)
            what = f"Evacuate the {mode.removesuffix('-only')} instances of {node}"
            self._run(what, job_id, progress, span=(50 * number, 50 * (number + 1)))

    def follow_remote_job(self, job_id: str, progress: Progress) -> None:
        """Follow a job (and its child jobs, for node operations) to its end."""
        self._follow(job_id, progress)

    # --- jobs

    def _run(
        self,
        what: str,
        job_id: Any,
        progress: Progress,
        span: tuple[int, int] | None = (0, 100),
    ) -> None:
        """Record a submitted job at once, then follow it to its end.

        `span`: the percents reported at submission and at success (None: report none).
        """
        job_id = parse_job_id(job_id)
        progress.remote_job(str(job_id))
        progress.log(f"{what}: Ganeti job {job_id}.")
        if span is not None:
            progress.percent(span[0])
        self._follow(job_id, progress, span)
        if span is not None:
            progress.percent(span[1])

    def _follow(
        self, job_id: Any, progress: Progress, span: tuple[int, int] | None = (0, 100)
    ) -> None:
        job = self.wait_for_job(job_id, on_log=_copy_to(progress), poll=self.job_poll)
        children = child_jobs(job)
        if children is not None:
            self._follow_children(parse_job_id(job_id), children, progress, span)

    def _follow_children(
        self,
        parent: int,
        children: list[tuple[bool, Any]],
        progress: Progress,
        span: tuple[int, int] | None,
    ) -> None:
        """Follow every child job to its end, even after one failed; then report failures."""
        if not children:
            progress.log(f"Ganeti job {parent} had nothing to do.")
            return
        failures = []
        for number, (submitted, value) in enumerate(children, start=1):
            if not submitted:
                failures.append(f"a job could not be submitted: {value}")
                progress.log(f"Ganeti could not submit a job: {value}.")
            else:
                child = parse_job_id(value)
                progress.log(f"Following Ganeti job {child} ({number} of {len(children)}).")
                try:
                    self.wait_for_job(child, on_log=_copy_to(progress), poll=self.job_poll)
                except (OperationFailed, NotFound) as exc:
                    failures.append(str(exc))
                    progress.log(str(exc))
                else:
                    progress.log(f"Ganeti job {child} succeeded.")
            if span is not None:
                start, end = span
                progress.percent(start + (end - start) * number // len(children))
        if failures:
            raise OperationFailed(
                f"{len(failures)} of the {len(children)} jobs of Ganeti job {parent} failed: "
                + " ".join(failures)
            )


# --- request bodies, pure


def nic_params(nic: NicSpec) -> dict[str, str]:
    """A NIC as RAPI takes it: only the keys that are set.

    A network brings its own mode and link (from its connection to the node group), and Ganeti
    refuses a NIC that gives both, so with a network, mode and link are left out.
    """
    params = {"mac": nic.mac, "ip": nic.ip}
    if nic.network:
        params["network"] = nic.network
    else:
        params.update(mode=nic.mode, link=nic.link)
    return {key: value for key, value in params.items() if value}


def modify_body(changes: VMChanges) -> dict[str, Any]:
    """The ``PUT /2/instances/X/modify`` body for memory, vCPUs and NICs ({} for none).

    NICs are removed before any is added, the highest index first, so that each index still
    names the NIC it named before the change.
    """
    body: dict[str, Any] = {}
    beparams: dict[str, int] = {}
    if changes.memory is not None:
        beparams.update(maxmem=changes.memory, minmem=changes.memory)
    if changes.vcpus is not None:
        beparams["vcpus"] = changes.vcpus
    if beparams:
        body["beparams"] = beparams
    nics: list[list[Any]] = [
        ["remove", index, {}] for index in sorted(set(changes.remove_nics), reverse=True)
    ]
    nics += [["add", -1, nic_params(nic)] for nic in changes.add_nics]
    if nics:
        body["nics"] = nics
    return body


def child_jobs(job: dict) -> list[tuple[bool, Any]] | None:
    """The child jobs in a node operation's result ``{"jobs": [[true, id], [false, "why"]]}``.

    None when the job's result is not of that shape (every job but node migrate/evacuate).
    """
    results = job.get("opresult")
    if type(results) is not list or len(results) != 1 or type(results[0]) is not dict:
        return None
    jobs = results[0].get("jobs")
    if jobs is None:
        return None
    if type(jobs) is not list or not all(type(j) is list and len(j) == 2 for j in jobs):
        raise MalformedAnswer(f"Ganeti answered the child jobs {jobs!r}.")
    return [(bool(submitted), value) for submitted, value in jobs]


def _copy_to(progress: Progress) -> OnLog:
    return lambda _serial, _when, message: progress.log(message)


def _instance(name: str, action: str = "") -> str:
    path = f"/2/instances/{quote(name, safe='')}"
    return f"{path}/{action}" if action else path


def _node(name: str, action: str) -> str:
    return f"/2/nodes/{quote(name, safe='')}/{action}"
