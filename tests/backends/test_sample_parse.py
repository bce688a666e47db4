"""The metric parsers: every figure from a host is distrusted; a bad one is dropped, never
raised on, and never becomes a negative or absurd point."""

import math

import pytest

from clusters.backends.sample_parse import (
    host_cpu_times,
    host_memory_used,
    mond_cpu_percent,
    node_samples_from_rapi,
    pool_usage,
    vm_sample_from_stats,
    vm_samples_from_rapi,
)

HOSTILE = [-1, -(2**70), math.nan, math.inf, -math.inf, 2**64, 2**63, "12", None, True, [1], {}]


def domain_stats(**changes):
    stats = {
        "state.state": 1,
        "cpu.time": 5_000_000_000,
        "balloon.current": 65536,
        "balloon.rss": 40960,
        "block.count": 2,
        "block.0.rd.bytes": 1024,
        "block.0.wr.bytes": 2048,
        "block.0.rd.reqs": 2,
        "block.0.wr.reqs": 4,
        "block.1.rd.bytes": 1,
        "net.count": 1,
        "net.0.rx.bytes": 90,
        "net.0.tx.bytes": 10,
    }
    stats.update(changes)
    return stats


def test_a_domain_gives_its_counters_summed_over_devices_and_its_memory_in_mib():
    vm = vm_sample_from_stats("web", domain_stats(), "host1", "host1")
    assert vm.cpu_time_ns == 5_000_000_000
    assert vm.memory_used_mib == 40.0  # the QEMU process's resident size, KiB -> MiB
    assert (vm.block_read_bytes, vm.block_write_bytes) == (1025, 2048)
    assert (vm.block_read_requests, vm.block_write_requests) == (2, 4)
    assert (vm.net_rx_bytes, vm.net_tx_bytes) == (90, 10)


def test_the_guests_own_memory_figures_win_over_the_process_size():
    stats = domain_stats(**{"balloon.available": 102400, "balloon.unused": 51200})
    assert vm_sample_from_stats("web", stats, "h", "h").memory_used_mib == 50.0


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_domain_figure_is_dropped_not_raised_on(value):
    stats = domain_stats(
        **{
            "cpu.time": value,
            "balloon.rss": value,
            "balloon.current": value,
            "net.0.rx.bytes": value,
            "block.0.rd.bytes": value,
            "block.1.rd.bytes": value,
        }
    )
    vm = vm_sample_from_stats("web", stats, "h", "h")
    assert vm.cpu_time_ns is None
    assert vm.memory_used_mib is None
    assert vm.net_rx_bytes is None
    assert vm.block_read_bytes is None
    assert vm.block_write_bytes == 2048  # the good figures stay


@pytest.mark.parametrize("count", [-1, math.nan, "2", 2**40])
def test_a_hostile_device_count_does_not_crash_or_loop_forever(count):
    vm = vm_sample_from_stats("web", domain_stats(**{"block.count": count}), "h", "h")
    assert vm.block_read_bytes in (None, 1025)


@pytest.mark.parametrize("name", [None, "", 12, b"web"])
def test_a_domain_without_a_usable_name_is_skipped(name):
    assert vm_sample_from_stats(name, domain_stats(), "h", "h") is None


def test_host_cpu_and_memory_counters_are_read_and_hostile_ones_dropped():
    assert host_cpu_times({"kernel": 1, "user": 2, "idle": 7, "iowait": 0}) == (3, 10)
    assert host_cpu_times({"kernel": -1, "user": 2, "idle": 7}) == (None, None)
    assert host_cpu_times("junk") == (None, None)
    used, total = host_memory_used({"total": 2048, "free": 512, "cached": 512})
    assert (used, total) == (1.0, 2.0)
    assert host_memory_used({"total": math.nan, "free": 1}) == (None, None)
    assert host_memory_used({"total": 1024, "free": 2048}) == (0.0, 1.0)
    assert host_memory_used({"total": 1024, "free": 10**30}) == (None, None)


def test_storage_pools_are_summed_and_broken_ones_left_out():
    mib = 1024 * 1024
    infos = [[2, 10 * mib, 4 * mib, 6 * mib], [2, -1, 0, 0], [2, mib, 2 * mib, 0], None, [2]]
    assert pool_usage(infos) == (4.0, 10.0)
    assert pool_usage([]) == (None, None)


def test_ganeti_nodes_give_memory_and_disk_used_and_total():
    nodes = node_samples_from_rapi(
        [
            {"name": "n1", "mtotal": 4096, "mfree": 1024, "dtotal": 100, "dfree": 40,
             "ctotal": 4, "pip": "192.0.2.1"},
            {"name": "n2", "offline": True, "mtotal": None},
        ]
    )  # fmt: skip
    assert len(nodes) == 1
    node, address = nodes[0]
    assert address == "192.0.2.1"
    assert (node.memory_used_mib, node.memory_total_mib) == (3072.0, 4096.0)
    assert (node.disk_used_mib, node.disk_total_mib) == (60.0, 100.0)
    assert node.cpus == 4


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_ganeti_figures_are_dropped(value):
    raw = {"name": "n1", "mtotal": value, "mfree": 1, "dtotal": 100, "dfree": value,
           "ctotal": value, "pip": value}  # fmt: skip
    node, address = node_samples_from_rapi([raw, "junk", {"name": None}])[0]
    assert node.memory_total_mib is None and node.memory_used_mib is None
    assert node.disk_total_mib == 100.0 and node.disk_used_mib is None
    assert node.cpus is None
    assert address == (value if type(value) is str else "")  # the policy judges an address
    vms = vm_samples_from_rapi(
        [{"name": "i1", "oper_state": True, "oper_ram": value, "oper_vcpus": value}, 7]
    )
    assert vms[0].memory_used_mib is None and vms[0].vcpus is None


def test_free_past_total_gives_no_used_figure():
    node, _address = node_samples_from_rapi([{"name": "n", "mtotal": 10, "mfree": 11}])[0]
    assert node.memory_used_mib is None


def test_stopped_ganeti_instances_give_no_memory_point():
    vms = vm_samples_from_rapi([{"name": "i1", "oper_state": False, "oper_ram": None}])
    assert vms == []


def test_monds_cpu_load_report_becomes_a_percentage():
    report = {"name": "cpu-avg-load", "data": {"cpu_number": 2, "cpus": [0.25, 0.75],
                                                "cpu_total": 1.0}}  # fmt: skip
    assert mond_cpu_percent([{"name": "lv"}, report]) == 50.0
    assert mond_cpu_percent(report) == 50.0
    # Per-CPU figures that make no sense: the total is used, and checked too.
    report["data"]["cpus"] = [math.nan, 2.0]
    assert mond_cpu_percent(report) == 50.0
    report["data"]["cpu_total"] = -3
    assert mond_cpu_percent(report) is None
    report["data"]["cpu_total"] = 1e9
    assert mond_cpu_percent(report) is None
    assert mond_cpu_percent("junk") is None
    assert mond_cpu_percent([{"name": "cpu-avg-load", "data": None}]) is None
