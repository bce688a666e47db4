"""Unit tests of the RAPI parsers, on answers shaped like Ganeti 3.0's (GANETI-NOTES section 1
and the answers of the test cluster)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from clusters.backends.base import MalformedAnswer, NodeInfo
from clusters.backends.ganeti_parse import (
    job_failure_reason,
    job_log_entries,
    parse_info,
    parse_instances,
    parse_job_id,
    parse_networks,
    parse_nodes,
    parse_os_list,
    resolve_vnc_hosts,
)

INFO = {
    "software_version": "3.0.2",
    "protocol_version": 3000000,
    "name": "cluster1.example.com",
    "master": "node1.example.com",
    "default_hypervisor": "kvm",
    "enabled_hypervisors": ["kvm"],
    "enabled_disk_templates": ["drbd", "plain", "diskless"],
    "default_iallocator": "hail",
    "ipolicy": {
        "minmax": [{"min": {"memory-size": 128}, "max": {"memory-size": 32768}}],
        "std": {"memory-size": 128},
        "vcpu-ratio": 4,
        "spindle-ratio": 32,
        "disk-templates": ["drbd", "plain", "diskless"],
    },
    "volume_group_name": "xenvg",
    "uuid": "3ce5e9b7-6578-4b62-8f7e-671bb920156a",
    "ctime": 1795566591.3107588,
    "tags": [],
    "hvparams": {"kvm": {"kernel_path": ""}},
}

NODE = {
    "name": "node1.example.com",
    "offline": False,
    "master_candidate": True,
    "drained": False,
    "dtotal": 258019,
    "dfree": 80540,
    "sptotal": None,
    "spfree": None,
    "mtotal": 24105,
    "mnode": 505,
    "mfree": 23732,
    "pinst_cnt": 3,
    "sinst_cnt": 2,
    "ctotal": 16,
    "cnos": 2,
    "pip": "192.0.2.11",
    "sip": "198.51.100.11",
    "role": "M",
    "group.uuid": "b08c0949-ef89-4d9b-9736-35afa0f62777",
    "uuid": "5a056cd1-8a66-4a00-ab55-35c0404e92cb",
    "tags": [],
}

INSTANCE = {
    "name": "vm1.example.com",
    "admin_state": "up",
    "os": "debootstrap+default",
    "pnode": "node1.example.com",
    "snodes": ["node2.example.com"],
    "disk_template": "drbd",
    "nic.ips": ["10.0.0.5", None],
    "nic.macs": ["aa:00:00:3b:e8:78", "aa:00:00:3b:e8:79"],
    "nic.modes": ["bridged", "routed"],
    "nic.uuids": ["e1087699-711e-4373-bbda-ba48ac52b01c", "5ac63fd9-18db-4516-b686-b9a4b0f03042"],
    "nic.names": [None, "backend"],
    "nic.links": ["br0", "rt100"],
    "nic.networks": ["0a1b2c3d-aaaa-bbbb-cccc-000000000001", None],
    "nic.networks.names": ["vmnet", None],
    "nic.bridges": ["br0", None],
    "network_port": 11004,
    "disk.sizes": [10240, 2048],
    "disk.spindles": [None, None],
    "disk_usage": 12544,
    "disk.uuids": ["7e975223-0ddb-478e-a0d0-fb4fe4fc36ea", "9876b7c6-345b-4602-8212-e751d00f06f9"],
    "disk.names": ["root", None],
    "beparams": {
        "minmem": 2048,
        "maxmem": 2048,
        "vcpus": 2,
        "auto_balance": True,
        "always_failover": False,
        "spindle_use": 1,
        "memory": 2048,
    },
    "hvparams": {"vnc_bind_address": "0.0.0.0", "kernel_path": ""},  # noqa: S104
    "oper_state": True,
    "oper_ram": 2048,
    "oper_vcpus": 2,
    "status": "running",
    "ctime": 1795566725.731652,
    "mtime": 1795566727.766941,
    "uuid": "1efe8957-878a-4d49-a931-e7b51a420989",
    "serial_no": 3,
    "tags": ["env:prod"],
}

# What the fake hypervisor of the test cluster answers for a diskless instance without NICs.
FAKE_DISKLESS_INSTANCE = {
    **INSTANCE,
    "snodes": [],
    "disk_template": "diskless",
    "network_port": None,
    "hvparams": {},
    **{key: [] for key in INSTANCE if key.startswith(("nic.", "disk."))},
}


def instance(**changes):
    raw = copy.deepcopy(INSTANCE)
    raw.update(changes)
    return raw


def node(**changes):
    return {**NODE, **changes}


# --- cluster info


def test_it_reads_the_cluster_name_version_templates_and_policy():
    info = parse_info(INFO)

    assert info.name == "cluster1.example.com"
    assert info.software_version == "3.0.2"
    assert info.enabled_disk_templates == ["drbd", "plain", "diskless"]
    assert info.enabled_hypervisors == ["kvm"]
    assert info.default_iallocator == "hail"
    assert info.ipolicy["vcpu-ratio"] == 4
    assert info.extra["master"] == "node1.example.com"
    assert "hvparams" not in info.extra


def test_it_notes_the_kvm_vnc_password_file_that_consoles_need():
    protected = {**INFO, "hvparams": {"kvm": {"vnc_password_file": "/etc/ganeti/vnc-pw"}}}
    assert parse_info(protected).extra["vnc_password_file"] == "/etc/ganeti/vnc-pw"
    assert "vnc_password_file" not in parse_info(INFO).extra  # KVM without one
    fake_only = {**protected, "enabled_hypervisors": ["fake"]}
    assert "vnc_password_file" not in parse_info(fake_only).extra


def test_it_refuses_cluster_info_without_a_name():
    with pytest.raises(MalformedAnswer, match="without 'name'"):
        parse_info({k: v for k, v in INFO.items() if k != "name"})


def test_it_refuses_cluster_info_that_is_not_an_object():
    with pytest.raises(MalformedAnswer, match="not an object"):
        parse_info(["cluster1"])


# --- nodes


@pytest.mark.parametrize(
    ("letter", "role"),
    [("M", "master"), ("C", "candidate"), ("R", "regular"), ("D", "drained"), ("O", "offline")],
)
def test_it_names_the_role_of_each_node_letter(letter, role):
    assert parse_nodes([node(role=letter)])[0].role == role


def test_it_reads_a_nodes_address_memory_disk_cpus_and_instance_counts():
    parsed = parse_nodes([NODE])[0]

    assert parsed == NodeInfo(
        name="node1.example.com",
        address="192.0.2.11",
        role="master",
        memory_total=24105,
        memory_free=23732,
        disk_total=258019,
        disk_free=80540,
        cpus=16,
        primary_count=3,
        secondary_count=2,
        uuid="5a056cd1-8a66-4a00-ab55-35c0404e92cb",
    )


def test_it_marks_an_offline_node_with_null_memory_as_unknown():
    offline = node(
        role="O", offline=True, mtotal=None, mfree=None, mnode=None, dtotal=None, dfree=None,
        ctotal=None, cnos=None,
    )  # fmt: skip

    parsed = parse_nodes([offline])[0]

    assert parsed.role == "offline"
    assert (parsed.memory_total, parsed.memory_free, parsed.cpus) == (None, None, None)
    assert (parsed.disk_total, parsed.disk_free) == (None, None)


def test_it_keeps_memory_but_not_disk_on_a_diskless_only_cluster():
    parsed = parse_nodes([node(dtotal=None, dfree=None)])[0]

    assert parsed.memory_total == 24105
    assert parsed.disk_total is None
    assert parsed.disk_free is None


def test_it_refuses_a_node_with_an_unknown_role_letter():
    with pytest.raises(MalformedAnswer, match="node1.example.com.*role = 'X'"):
        parse_nodes([node(role="X")])


def test_it_refuses_a_node_whose_memory_is_text():
    with pytest.raises(MalformedAnswer, match="node1.example.com.*mtotal = '24105'"):
        parse_nodes([node(mtotal="24105")])


def test_it_names_the_node_that_lacks_a_role():
    raw = {k: v for k, v in NODE.items() if k != "role"}
    with pytest.raises(MalformedAnswer, match=r"a node \(node1.example.com\) without 'role'"):
        parse_nodes([raw])


def test_it_refuses_a_node_list_that_is_not_a_list():
    with pytest.raises(MalformedAnswer, match="node list with a dict"):
        parse_nodes({"nodes": []})


# --- instances


def test_it_reads_an_instance_with_its_disks_nics_and_times():
    vm = parse_instances([INSTANCE])[0]

    assert vm.name == "vm1.example.com"
    assert vm.uuid == "1efe8957-878a-4d49-a931-e7b51a420989"
    assert (vm.primary_node, vm.secondary_nodes) == ("node1.example.com", ["node2.example.com"])
    assert (vm.wanted_state, vm.actual_state, vm.status) == ("up", "running", "running")
    assert (vm.memory, vm.vcpus) == (2048, 2)
    assert vm.disk_template == "drbd"
    assert vm.os == "debootstrap+default"
    assert vm.tags == ["env:prod"]
    assert [(d.size, d.name, d.uuid[:8]) for d in vm.disks] == [
        (10240, "root", "7e975223"),
        (2048, "", "9876b7c6"),
    ]
    first, second = vm.nics
    assert (first.mac, first.ip, first.mode, first.link) == (
        "aa:00:00:3b:e8:78", "10.0.0.5", "bridged", "br0",
    )  # fmt: skip
    assert (first.network, first.name) == ("vmnet", "")
    assert (second.ip, second.mode, second.network, second.name) == ("", "routed", "", "backend")
    assert vm.created_at == datetime(2026, 11, 25, 0, 32, 5, 731652, tzinfo=UTC)
    assert vm.modified_at.tzinfo is UTC


def test_it_reads_the_diskless_instance_of_the_fake_hypervisor():
    vm = parse_instances([FAKE_DISKLESS_INSTANCE])[0]

    assert (vm.disks, vm.nics, vm.secondary_nodes) == ([], [], [])
    assert (vm.vnc_host, vm.vnc_port) == ("", None)


@pytest.mark.parametrize(
    ("status", "actual"),
    [
        ("running", "running"),
        ("ADMIN_down", "stopped"),
        ("USER_down", "stopped"),
        ("ADMIN_offline", "stopped"),
        ("ERROR_up", "error"),
        ("ERROR_down", "error"),
        ("ERROR_nodedown", "error"),
        ("ERROR_nodeoffline", "error"),
        ("ERROR_wrongnode", "error"),
        ("something_new", "unknown"),
    ],
)
def test_it_maps_each_ganeti_status_to_an_actual_state(status, actual):
    vm = parse_instances([instance(status=status)])[0]

    assert vm.actual_state == actual
    assert vm.status == status


@pytest.mark.parametrize(
    ("admin_state", "wanted"),
    [("up", "up"), ("down", "down"), ("offline", "offline"), (True, "up"), (False, "down")],
)
def test_it_maps_the_admin_state_to_the_wanted_state(admin_state, wanted):
    assert parse_instances([instance(admin_state=admin_state)])[0].wanted_state == wanted


def test_it_refuses_an_unknown_admin_state():
    with pytest.raises(MalformedAnswer, match="vm1.example.com.*admin_state = 'sideways'"):
        parse_instances([instance(admin_state="sideways")])


def test_it_takes_the_memory_alias_when_maxmem_is_absent():
    vm = parse_instances([instance(beparams={"memory": 512, "vcpus": 1})])[0]

    assert vm.memory == 512


def test_it_reads_instances_of_old_ganeti_without_disk_and_nic_names():
    raw = instance()
    for key in ("disk.names", "disk.uuids", "nic.names", "nic.networks.names", "nic.ips"):
        del raw[key]

    vm = parse_instances([raw])[0]

    assert [(d.size, d.name, d.uuid) for d in vm.disks] == [(10240, "", ""), (2048, "", "")]
    assert [(n.mac, n.network, n.ip) for n in vm.nics][0] == ("aa:00:00:3b:e8:78", "", "")


def test_it_refuses_an_instance_without_a_name():
    raw = {k: v for k, v in INSTANCE.items() if k != "name"}
    with pytest.raises(MalformedAnswer, match="Ganeti answered an instance without 'name'"):
        parse_instances([raw])


def test_it_names_the_instance_that_lacks_beparams():
    raw = {k: v for k, v in INSTANCE.items() if k != "beparams"}
    with pytest.raises(
        MalformedAnswer, match=r"an instance \(vm1.example.com\) without 'beparams'"
    ):
        parse_instances([raw])


def test_it_refuses_disk_sizes_given_as_text():
    with pytest.raises(MalformedAnswer, match="vm1.example.com.*disk.sizes = '10240'"):
        parse_instances([instance(**{"disk.sizes": ["10240", 2048]})])


def test_it_refuses_nic_lists_of_different_lengths():
    with pytest.raises(MalformedAnswer, match="vm1.example.com.*different lengths"):
        parse_instances([instance(**{"nic.modes": ["bridged"]})])


def test_it_refuses_beparams_without_vcpus():
    with pytest.raises(MalformedAnswer, match="beparams.vcpus"):
        parse_instances([instance(beparams={"maxmem": 512})])


def test_it_refuses_a_creation_time_that_is_not_a_number():
    with pytest.raises(MalformedAnswer, match="ctime = 'yesterday'"):
        parse_instances([instance(ctime="yesterday")])


def test_it_refuses_an_instance_that_is_not_an_object():
    with pytest.raises(MalformedAnswer, match="an instance that is a str"):
        parse_instances(["vm1.example.com"])


# --- VNC endpoints


def test_a_console_bound_to_every_address_is_reached_on_the_primary_node():
    vms = parse_instances([INSTANCE])
    resolve_vnc_hosts(vms, parse_nodes([NODE]))

    assert (vms[0].vnc_host, vms[0].vnc_port) == ("192.0.2.11", 11004)


def test_a_console_bound_to_one_address_keeps_it():
    vms = parse_instances([instance(hvparams={"vnc_bind_address": "192.0.2.50"})])
    resolve_vnc_hosts(vms, parse_nodes([NODE]))

    assert (vms[0].vnc_host, vms[0].vnc_port) == ("192.0.2.50", 11004)


def test_kvm_without_a_vnc_bind_address_has_no_vnc_console():
    vm = parse_instances([instance(hvparams={"vnc_bind_address": ""})])[0]

    assert vm.vnc_port is None


# --- networks and operating systems


def test_it_reads_a_ganeti_network_with_its_subnets_and_counts():
    raw = {
        "name": "vmnet",
        "network": "10.0.0.0/24",
        "gateway": "10.0.0.1",
        "network6": None,
        "gateway6": None,
        "mac_prefix": None,
        "free_count": 250,
        "reserved_count": 3,
        "map": "XX..",
        "group_list": [["default", "bridged", "br0", ""]],
        "inst_list": ["vm1.example.com"],
        "external_reservations": "10.0.0.1",
        "tags": [],
        "uuid": "0a1b2c3d-aaaa-bbbb-cccc-000000000001",
    }

    network = parse_networks([raw])[0]

    assert (network.name, network.kind) == ("vmnet", "ganeti")
    assert (network.subnet, network.gateway) == ("10.0.0.0/24", "10.0.0.1")
    assert (network.subnet6, network.gateway6) == ("", "")
    assert (network.free_count, network.reserved_count) == (250, 3)


def test_it_refuses_a_network_without_a_name():
    with pytest.raises(MalformedAnswer, match="a network without 'name'"):
        parse_networks([{"network": "10.0.0.0/24"}])


def test_it_reads_the_os_list_of_names_and_variants():
    assert parse_os_list(["noop", "debootstrap+default"]) == ["noop", "debootstrap+default"]


def test_it_reads_the_bulk_os_list_leaving_out_hidden_and_invalid_ones():
    bulk = [
        {"name": "debootstrap", "valid": True, "variants": ["default", "minimal"]},
        {"name": "noop", "valid": True, "variants": []},
        {"name": "broken", "valid": False, "variants": []},
        {"name": "secret", "valid": True, "hidden": True, "variants": []},
    ]

    assert parse_os_list(bulk) == ["debootstrap+default", "debootstrap+minimal", "noop"]


def test_it_refuses_an_os_list_entry_that_is_not_a_name():
    with pytest.raises(MalformedAnswer, match="OS list entry 42"):
        parse_os_list(["noop", 42])


# --- jobs


@pytest.mark.parametrize(("answer", "job_id"), [(21, 21), ("21", 21), (0, 0)])
def test_it_accepts_a_job_id_as_a_number_or_a_string(answer, job_id):
    assert parse_job_id(answer) == job_id


@pytest.mark.parametrize("answer", [None, True, -1, "job-21", 2.5, [21], ""])
def test_it_refuses_what_is_not_a_job_id(answer):
    with pytest.raises(MalformedAnswer, match="where a job id was expected"):
        parse_job_id(answer)


JOB = {
    "id": 22,
    "status": "error",
    "opstatus": ["error"],
    "summary": ["INSTANCE_CREATE(vm1.example.com)"],
    "oplog": [
        [
            [1, [1795566725, 48218], "message", " - INFO: Selected nodes via iallocator hail"],
            [2, [1795566725, 532301], "message", "* disk 0, size 64M"],
            [3, [1795566726, 0], "remote-import", {"x509_ca": "..."}],
        ]
    ],
    "opresult": [
        [
            "OpPrereqError",
            ["Instance 'vm1.example.com' is already in the cluster", "already_exists"],
        ]
    ],
}


def test_it_lists_only_the_log_entries_after_the_last_serial_seen():
    entries = job_log_entries(JOB, after_serial=1)

    assert [serial for serial, _, _ in entries] == [2, 3]
    serial, when, message = entries[0]
    assert when == datetime(2026, 11, 25, 0, 32, 5, 532301, tzinfo=UTC)
    assert message == "* disk 0, size 64M"
    assert entries[1][2] == "{'x509_ca': '...'}"


def test_it_refuses_a_log_entry_without_a_timestamp():
    job = {"oplog": [[[1, None, "message", "selecting nodes"]]]}

    with pytest.raises(MalformedAnswer, match="job log entry"):
        job_log_entries(job)


def test_it_reads_an_empty_log_of_a_job_that_failed_before_running():
    assert job_log_entries({"oplog": [[]]}) == []
    assert job_log_entries({"oplog": None}) == []


def test_it_gives_ganetis_reason_and_error_code_for_a_failed_job():
    assert job_failure_reason(JOB) == (
        "Instance 'vm1.example.com' is already in the cluster (already_exists)"
    )


def test_it_gives_the_text_of_an_execution_error():
    job = {"status": "error", "opstatus": ["success", "error"], "opresult": [None, [
        "OpExecError", ["Could not start instance: out of memory"]]]}  # fmt: skip

    assert job_failure_reason(job) == "Could not start instance: out of memory"
