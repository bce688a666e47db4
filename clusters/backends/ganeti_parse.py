"""Turn Ganeti RAPI answers (decoded JSON) into the backend dataclasses.

Pure functions, no I/O: the sync parses thousands of instances at a time, so they are tested
and benchmarked alone. Each reads a field once and checks its type with a cheap ``type(x) is``
test; a missing key is caught once per object, not guarded per field. Whatever does not match
the RAPI contract raises MalformedAnswer naming the field and the object.

Required fields are those every Ganeti since 2.16 sends and without which a row would be wrong
(names, states, memory, disk sizes); descriptive ones (tags, uuids, NIC names) default to empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .base import (
    ClusterInfo,
    DiskInfo,
    MalformedAnswer,
    NetworkInfo,
    NicInfo,
    NodeInfo,
    VMInfo,
)

NODE_ROLES = {"M": "master", "C": "candidate", "R": "regular", "D": "drained", "O": "offline"}

# admin_state is a string since Ganeti 2.8; older answers (and the RAPI doc's example) use a bool.
WANTED_STATES = {"up": "up", "down": "down", "offline": "offline", True: "up", False: "down"}

# Every status not listed and starting with ERROR_ is "error"; anything else is "unknown".
ACTUAL_STATES = {
    "running": "running",
    "ADMIN_down": "stopped",
    "USER_down": "stopped",
    "ADMIN_offline": "stopped",
}

# A VNC server bound to every address is reached on the primary node's address.
ANY_ADDRESS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (read from hvparams, never bound)

# /2/info keys kept in ClusterInfo.extra: what pages and deployment checks show.
INFO_EXTRA_KEYS = (
    "master",
    "uuid",
    "protocol_version",
    "default_hypervisor",
    "candidate_pool_size",
    "file_storage_dir",
    "shared_file_storage_dir",
    "volume_group_name",
    "mac_prefix",
    "primary_ip_version",
    "tags",
    "ctime",
    "mtime",
)

_NO_VALUES: list[Any] = []


# --- cluster


def parse_info(info: Any) -> ClusterInfo:
    """Parse ``GET /2/info``."""
    if type(info) is not dict:
        raise MalformedAnswer(
            f"Ganeti answered the cluster info with {_kind(info)}, not an object."
        )
    owner = "the cluster info"
    try:
        return ClusterInfo(
            name=_str(info["name"], "name", owner),
            software_version=_opt_str(info.get("software_version"), "software_version", owner),
            enabled_disk_templates=_str_list(info, "enabled_disk_templates", owner),
            enabled_hypervisors=_str_list(info, "enabled_hypervisors", owner),
            default_iallocator=_opt_str(
                info.get("default_iallocator"), "default_iallocator", owner
            ),
            ipolicy=_dict(info.get("ipolicy"), "ipolicy", owner),
            extra={
                **{key: info[key] for key in INFO_EXTRA_KEYS if key in info},
                **_vnc_password_file(info),
            },
        )
    except KeyError as exc:
        raise _missing(owner, exc, info) from None


def _vnc_password_file(info: dict) -> dict:
    """{"vnc_password_file": path} when KVM consoles want the password in that file, else {}.

    RAPI names the file but never gives its content: an admin enters it in the cluster's
    settings, and the cluster page asks for it while it is missing.
    """
    if "kvm" not in (info.get("enabled_hypervisors") or []):
        return {}
    kvm = (info.get("hvparams") or {}).get("kvm")
    path = kvm.get("vnc_password_file") if type(kvm) is dict else None
    return {"vnc_password_file": path} if type(path) is str and path else {}


# --- nodes


def parse_nodes(items: Any) -> list[NodeInfo]:
    """Parse ``GET /2/nodes?bulk=1``.

    Memory, disk and CPU figures are live values: Ganeti sends null for an offline or
    unreachable node, and null disk figures on file- or diskless-only clusters. They become None
    ("unknown"), never 0, so that capacity views do not count a dead node as an empty one.
    """
    return _each(items, "node", _node)


def _node(raw: dict) -> NodeInfo:
    name = _str(raw["name"], "name", "a node")
    owner = f"the node {name!r}"
    role = NODE_ROLES.get(raw["role"])
    if role is None:
        raise _wrong(owner, "role", raw["role"], "one of M, C, R, D, O")
    return NodeInfo(
        name=name,
        address=_opt_str(raw.get("pip"), "pip", owner),
        role=role,
        memory_total=_opt_int(raw.get("mtotal"), "mtotal", owner),
        memory_free=_opt_int(raw.get("mfree"), "mfree", owner),
        disk_total=_opt_int(raw.get("dtotal"), "dtotal", owner),
        disk_free=_opt_int(raw.get("dfree"), "dfree", owner),
        cpus=_opt_int(raw.get("ctotal"), "ctotal", owner),
        primary_count=_opt_int(raw.get("pinst_cnt"), "pinst_cnt", owner) or 0,
        secondary_count=_opt_int(raw.get("sinst_cnt"), "sinst_cnt", owner) or 0,
        uuid=_opt_str(raw.get("uuid"), "uuid", owner),
    )


# --- instances


def parse_instances(items: Any) -> list[VMInfo]:
    """Parse ``GET /2/instances?bulk=1`` (also fine for one ``GET /2/instances/X`` in a list)."""
    return _each(items, "instance", _instance)


def _instance(raw: dict) -> VMInfo:
    name = raw["name"]
    if type(name) is not str or not name:
        raise _wrong("an instance", "name", name, "a non-empty string")
    status = raw["status"]
    if type(status) is not str:
        raise _wrong(_instance_named(name), "status", status, "a string")
    wanted = WANTED_STATES.get(raw["admin_state"])
    if wanted is None:
        raise _wrong(_instance_named(name), "admin_state", raw["admin_state"], "up/down/offline")
    actual = ACTUAL_STATES.get(status) or ("error" if status.startswith("ERROR") else "unknown")
    pnode = raw["pnode"]
    if type(pnode) is not str:
        raise _wrong(_instance_named(name), "pnode", pnode, "a node name")
    memory, vcpus = _beparams(raw["beparams"], name)
    port = raw.get("network_port")
    vnc_host = ""
    if port is not None:
        if type(port) is not int:
            raise _wrong(_instance_named(name), "network_port", port, "a number or null")
        port, vnc_host = _vnc_endpoint(raw.get("hvparams"), port)
    snodes = raw.get("snodes") or _NO_VALUES
    tags = raw.get("tags") or _NO_VALUES
    if type(snodes) is not list or type(tags) is not list:
        raise _wrong(_instance_named(name), "snodes/tags", (snodes, tags), "lists")
    return VMInfo(
        name=name,
        uuid=raw.get("uuid") or "",
        primary_node=pnode,
        secondary_nodes=list(snodes),
        wanted_state=wanted,
        actual_state=actual,
        status=status,
        memory=memory,
        vcpus=vcpus,
        disk_template=raw.get("disk_template") or "",
        disks=_disks(raw, name),
        nics=_nics(raw, name),
        os=raw.get("os") or "",
        tags=list(tags),
        created_at=_epoch(raw.get("ctime"), "ctime", name),
        modified_at=_epoch(raw.get("mtime"), "mtime", name),
        vnc_host=vnc_host,
        vnc_port=port,
    )


def _vnc_endpoint(hvparams: Any, port: int) -> tuple[int | None, str]:
    """Where the instance's VNC console listens, from its (filled) hvparams.

    KVM with an empty ``vnc_bind_address`` has no VNC (the port serves SPICE or nothing).
    A specific address is returned as is; "" means every address (0.0.0.0, or no such
    hvparam as with xen-pvm or fake), which the caller resolves to the primary node's address.
    """
    if type(hvparams) is not dict or "vnc_bind_address" not in hvparams:
        return port, ""
    bind = hvparams["vnc_bind_address"]
    if not bind or type(bind) is not str:
        return None, ""
    return port, "" if bind in ANY_ADDRESS else bind


def _beparams(beparams: Any, name: str) -> tuple[int, int]:
    """Memory (maxmem; ``memory`` is its old alias) and vCPUs, as filled by Ganeti."""
    if type(beparams) is not dict:
        raise _wrong(_instance_named(name), "beparams", beparams, "an object")
    memory = beparams.get("maxmem", beparams.get("memory"))
    if type(memory) is not int:
        raise _wrong(_instance_named(name), "beparams.maxmem", memory, "a number of MiB")
    vcpus = beparams.get("vcpus")
    if type(vcpus) is not int:
        raise _wrong(_instance_named(name), "beparams.vcpus", vcpus, "a number")
    return memory, vcpus


def _disks(raw: dict, name: str) -> list[DiskInfo]:
    """Zip the parallel ``disk.*`` lists; names and uuids may be absent (old Ganeti) or null."""
    sizes = raw["disk.sizes"]
    if type(sizes) is not list:
        raise _wrong(_instance_named(name), "disk.sizes", sizes, "a list")
    if not sizes:
        return []
    nones = [None] * len(sizes)
    names = raw.get("disk.names") or nones
    uuids = raw.get("disk.uuids") or nones
    disks = []
    for size, disk_name, uuid in zip(sizes, names, uuids, strict=True):
        if type(size) is not int:
            raise _wrong(_instance_named(name), "disk.sizes", size, "a number of MiB")
        disks.append(DiskInfo(size, disk_name or "", uuid or ""))
    return disks


def _nics(raw: dict, name: str) -> list[NicInfo]:
    """Zip the parallel ``nic.*`` lists; ``nic.networks.names`` holds names, not UUIDs.

    A list that is absent or null (older Ganeti) counts as all nulls. Lists of different
    lengths make zip() raise ValueError, and a non-list TypeError; _each() reports both.
    """
    macs = raw["nic.macs"]
    if type(macs) is not list:
        raise _wrong(_instance_named(name), "nic.macs", macs, "a list")
    if not macs:
        return []
    nones = [None] * len(macs)
    get = raw.get
    return [
        NicInfo(mac or "", ip or "", mode or "", link or "", network or "", nic_name or "")
        for mac, ip, mode, link, network, nic_name in zip(
            macs,
            get("nic.ips") or nones,
            get("nic.modes") or nones,
            get("nic.links") or nones,
            get("nic.networks.names") or nones,
            get("nic.names") or nones,
            strict=True,
        )
    ]


def resolve_vnc_hosts(vms: list[VMInfo], nodes: list[NodeInfo]) -> None:
    """Give a VNC console bound to every address its primary node's address (in place)."""
    addresses = {node.name: node.address for node in nodes}
    for vm in vms:
        if vm.vnc_port is not None and not vm.vnc_host:
            vm.vnc_host = addresses.get(vm.primary_node, "")


# --- networks and operating systems


def parse_networks(items: Any) -> list[NetworkInfo]:
    """Parse ``GET /2/networks?bulk=1``."""
    return _each(items, "network", _network)


def _network(raw: dict) -> NetworkInfo:
    name = _str(raw["name"], "name", "a network")
    owner = f"the network {name!r}"
    return NetworkInfo(
        name=name,
        kind="ganeti",
        subnet=_opt_str(raw.get("network"), "network", owner),
        gateway=_opt_str(raw.get("gateway"), "gateway", owner),
        subnet6=_opt_str(raw.get("network6"), "network6", owner),
        gateway6=_opt_str(raw.get("gateway6"), "gateway6", owner),
        free_count=_opt_int(raw.get("free_count"), "free_count", owner),
        reserved_count=_opt_int(raw.get("reserved_count"), "reserved_count", owner),
        uuid=_opt_str(raw.get("uuid"), "uuid", owner),
    )


def parse_os_list(items: Any) -> list[str]:
    """Parse ``GET /2/os``: ``["os+variant", ...]``.

    Also takes the ``?bulk=1`` objects of Ganeti 3.1 (``{name, variants, valid, hidden,
    blacklisted}``), listing each variant and leaving out invalid, hidden and blacklisted ones,
    as ``gnt-os list`` does.
    """
    if type(items) is not list:
        raise MalformedAnswer(f"Ganeti answered the OS list with {_kind(items)}, not a list.")
    names: list[str] = []
    for item in items:
        if type(item) is str:
            names.append(item)
        elif type(item) is dict and type(item.get("name")) is str:
            if item.get("valid", True) and not item.get("hidden") and not item.get("blacklisted"):
                variants = item.get("variants") or []
                names.extend([f"{item['name']}+{v}" for v in variants] or [item["name"]])
        else:
            raise MalformedAnswer(f"Ganeti answered an OS list entry {item!r}, not a name.")
    return names


# --- jobs


def parse_job_id(value: Any) -> int:
    """A job id as written answers give it: an int on Ganeti 3.x, a digit string on old ones."""
    if type(value) is int and value >= 0:
        return value
    if type(value) is str and value.isdigit():
        return int(value)
    raise MalformedAnswer(f"Ganeti answered {value!r} where a job id was expected.")


def job_log_entries(job: dict, after_serial: int = 0) -> list[tuple[int, datetime, str]]:
    """The job's oplog entries newer than ``after_serial``, as (serial, time, message).

    ``oplog`` holds one list per opcode of ``[serial, [sec, usec], type, message]``; serials
    grow across the whole job, so a poller passes the last serial it saw.
    """
    entries = []
    for opcode_log in job.get("oplog") or _NO_VALUES:
        for entry in opcode_log or _NO_VALUES:
            try:
                serial, (sec, usec), _log_type, message = entry
                if serial > after_serial:
                    when = datetime.fromtimestamp(sec + usec / 1e6, UTC)
                    text = message if type(message) is str else str(message)
                    entries.append((serial, when, text))
            except (TypeError, ValueError, OverflowError):
                raise MalformedAnswer(f"Ganeti answered the job log entry {entry!r}.") from None
    return entries


def job_failure_reason(job: dict) -> str:
    """Ganeti's reason for a failed job: the first failed opcode's error, in words.

    An error result is ``["OpPrereqError", ["text", "ecode"]]`` (``ecode`` such as
    ``already_exists``), or ``["OpExecError", ["text"]]``.
    """
    statuses = job.get("opstatus") or _NO_VALUES
    results = job.get("opresult") or _NO_VALUES
    for status, result in zip(statuses, results, strict=False):
        if status in ("error", "canceled") and result:
            return _error_text(result)
    for result in results:
        if _is_error_result(result):
            return _error_text(result)
    return f"the job ended with status {job.get('status')!r}"


def _is_error_result(result: Any) -> bool:
    return (
        type(result) is list
        and len(result) == 2
        and type(result[0]) is str
        and result[0].endswith("Error")
    )


def _error_text(result: Any) -> str:
    if not _is_error_result(result):
        return str(result)
    error_class, args = result
    if type(args) is not list:
        return f"{args} ({error_class})"
    texts = [str(arg) for arg in args if arg not in (None, "")]
    if len(texts) == 2:
        return f"{texts[0]} ({texts[1]})"
    return "; ".join(texts) or error_class


# --- small checked readers; called once per field, so they stay tiny


def _each(items: Any, kind: str, parse_one: Callable[[dict], Any]) -> list:
    """Parse every object of a bulk list, naming the object and the field on a failure."""
    if type(items) is not list:
        raise MalformedAnswer(f"Ganeti answered the {kind} list with {_kind(items)}, not a list.")
    parsed = []
    for raw in items:
        if type(raw) is not dict:
            raise MalformedAnswer(
                f"Ganeti answered {_a(kind)} that is {_kind(raw)}, not an object."
            )
        try:
            parsed.append(parse_one(raw))
        except KeyError as exc:
            raise _missing(_a(kind), exc, raw) from None
        except ValueError as exc:  # zip(strict=True): parallel lists of different lengths
            raise MalformedAnswer(
                f"Ganeti answered the {kind} {raw.get('name')!r} with parallel lists of "
                f"different lengths ({exc})."
            ) from None
        except TypeError as exc:  # a list or object where Ganeti sent a scalar, or vice versa
            raise MalformedAnswer(
                f"Ganeti answered the {kind} {raw.get('name')!r} with a field of the wrong "
                f"type ({exc})."
            ) from None
    return parsed


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _missing(what: str, exc: KeyError, raw: dict) -> MalformedAnswer:
    name = raw.get("name")
    named = f" ({name})" if type(name) is str and exc.args[0] != "name" else ""
    return MalformedAnswer(f"Ganeti answered {what}{named} without {exc.args[0]!r}.")


def _wrong(owner: str, field: str, value: Any, expected: str) -> MalformedAnswer:
    return MalformedAnswer(
        f"Ganeti answered {owner} with {field} = {value!r}; expected {expected}."
    )


def _instance_named(name: str) -> str:
    return f"the instance {name!r}"


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _str(value: Any, field: str, owner: str) -> str:
    if type(value) is not str or not value:
        raise _wrong(owner, field, value, "a non-empty string")
    return value


def _opt_str(value: Any, field: str, owner: str) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise _wrong(owner, field, value, "text or null")
    return value


def _opt_int(value: Any, field: str, owner: str) -> int | None:
    if value is None or type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _wrong(owner, field, value, "a number or null")


def _str_list(raw: dict, field: str, owner: str) -> list[str]:
    value = raw.get(field)
    if value is None:
        return []
    if type(value) is not list or not all(type(v) is str for v in value):
        raise _wrong(owner, field, value, "a list of names")
    return list(value)


def _dict(value: Any, field: str, owner: str) -> dict:
    if value is None:
        return {}
    if type(value) is not dict:
        raise _wrong(owner, field, value, "an object")
    return value


def _epoch(value: Any, field: str, name: str) -> datetime | None:
    if value is None:
        return None
    if type(value) is not float and type(value) is not int:
        raise _wrong(_instance_named(name), field, value, "seconds since the epoch")
    return datetime.fromtimestamp(value, UTC)
