"""Turn the raw metric answers of libvirt, RAPI and Ganeti's monitoring daemon into samples.

Pure functions, no I/O. Every number comes from a host, and a host may be broken or hostile:
a figure that is not a finite number in its plausible range (negative, NaN, infinite, a
bool, a string, absurdly large) is dropped, as is a missing one; nothing here raises on a bad
figure. An entry without a usable name is skipped whole.
"""

from __future__ import annotations

import math
from typing import Any

from .base import NodeSample, VMSample

KiB_PER_MiB = 1024
MiB = 1024 * 1024

# Upper bounds past which a figure is nonsense, not a big machine.
MAX_COUNTER = 2**63  # libvirt's counters are unsigned 64-bit; past 2^63 is a wrapped negative
MAX_MiB = 2**40  # an exbibyte
MAX_CPUS = 1 << 16


def counter(value: Any) -> int | None:
    """A monotonically growing counter: a non-negative integral figure below 2^63."""
    if type(value) is float:
        if not math.isfinite(value):
            return None
        value = int(value)
    if type(value) is not int or not 0 <= value < MAX_COUNTER:
        return None
    return value


def gauge(value: Any, maximum: float) -> float | None:
    """A level (memory in MiB, a percentage...): a finite number from 0 to `maximum`."""
    if type(value) not in (int, float) or not math.isfinite(value):
        return None
    if not 0 <= value <= maximum:
        return None
    return float(value)


def cpu_count(value: Any) -> int | None:
    number = counter(value)
    return number if number is not None and 0 < number <= MAX_CPUS else None


def used(total: float | None, free: float | None) -> float | None:
    """Used = total - free, when both are known and free is not past total."""
    if total is None or free is None or free > total:
        return None
    return total - free


# --- libvirt


def vm_sample_from_stats(name: Any, stats: Any, node: str, run: str) -> VMSample | None:
    """A VM's readings from its ``getAllDomainStats`` entry (flags STATE, CPU_TOTAL, BALLOON,
    INTERFACE, BLOCK); None for an entry without a name or stats."""
    if type(name) is not str or not name or type(stats) is not dict:
        return None
    return VMSample(
        name=name,
        node=node,
        run=run,
        vcpus=cpu_count(stats.get("vcpu.current")),
        cpu_time_ns=counter(stats.get("cpu.time")),
        memory_used_mib=_balloon_used(stats),
        block_read_bytes=_sum(stats, "block", "rd.bytes"),
        block_write_bytes=_sum(stats, "block", "wr.bytes"),
        block_read_requests=_sum(stats, "block", "rd.reqs"),
        block_write_requests=_sum(stats, "block", "wr.reqs"),
        net_rx_bytes=_sum(stats, "net", "rx.bytes"),
        net_tx_bytes=_sum(stats, "net", "tx.bytes"),
    )


def _balloon_used(stats: dict) -> float | None:
    """What the guest uses, in MiB: its own figures (available - unused) when its balloon
    driver reports them, else the QEMU process's resident size, else the balloon's size."""
    available = counter(stats.get("balloon.available"))
    unused = counter(stats.get("balloon.unused"))
    kib = used(available, unused)
    if kib is None:
        kib = counter(stats.get("balloon.rss"))
    if kib is None:
        kib = counter(stats.get("balloon.current"))
    return None if kib is None else gauge(kib / KiB_PER_MiB, MAX_MiB)


def _sum(stats: dict, group: str, field: str) -> int | None:
    """The sum of a counter over a group's devices (block.N.rd.bytes...); None when no device
    gives it. A device without the figure (an empty CD-ROM) adds nothing."""
    count = counter(stats.get(f"{group}.count"))
    if not count:
        return None
    total, seen = 0, False
    for index in range(min(count, 4096)):
        value = counter(stats.get(f"{group}.{index}.{field}"))
        if value is not None:
            total += value
            seen = True
    return total if seen and total < MAX_COUNTER else None


def host_cpu_times(stats: Any) -> tuple[int | None, int | None]:
    """(busy, all) nanoseconds from ``getCPUStats(ALL_CPUS)``: kernel, user, idle, iowait."""
    if type(stats) is not dict:
        return None, None
    kernel, user = counter(stats.get("kernel")), counter(stats.get("user"))
    idle, iowait = counter(stats.get("idle")), counter(stats.get("iowait")) or 0
    if kernel is None or user is None or idle is None:
        return None, None
    busy = kernel + user
    return busy, busy + idle + iowait


def host_memory_used(stats: Any) -> tuple[float | None, float | None]:
    """(used, total) MiB from ``getMemoryStats(ALL_CELLS)`` (KiB); the page cache counts free,
    since the kernel gives it back."""
    if type(stats) is not dict:
        return None, None
    total = counter(stats.get("total"))
    free = counter(stats.get("free"))
    if total is None or free is None:
        return None, None
    free += (counter(stats.get("buffers")) or 0) + (counter(stats.get("cached")) or 0)
    used_kib = used(total, min(free, total))
    total_mib = gauge(total / KiB_PER_MiB, MAX_MiB)
    if used_kib is None or total_mib is None:
        return None, total_mib
    return gauge(used_kib / KiB_PER_MiB, MAX_MiB), total_mib


def pool_usage(infos: list[Any]) -> tuple[float | None, float | None]:
    """(used, total) MiB over storage pools' ``info()`` lists: [state, capacity, allocation,
    available] in bytes; None, None without a usable pool."""
    total = allocated = 0
    seen = False
    for info in infos:
        if type(info) is not list or len(info) < 4:
            continue
        capacity, allocation = counter(info[1]), counter(info[2])
        if capacity is None or allocation is None or allocation > capacity:
            continue
        total += capacity
        allocated += allocation
        seen = True
    if not seen:
        return None, None
    return gauge(allocated / MiB, MAX_MiB), gauge(total / MiB, MAX_MiB)


# --- Ganeti


def node_samples_from_rapi(items: Any) -> list[tuple[NodeSample, str]]:
    """Each node of ``/2/nodes?bulk=1`` as a sample, with its primary address (for mond).

    Offline nodes are left out: RAPI gives null figures for them.
    """
    samples = []
    for raw in items if type(items) is list else []:
        if type(raw) is not dict or type(raw.get("name")) is not str or not raw["name"]:
            continue
        if raw.get("offline") is True:
            continue
        memory_total = gauge(raw.get("mtotal"), MAX_MiB)
        disk_total = gauge(raw.get("dtotal"), MAX_MiB)
        sample = NodeSample(
            name=raw["name"],
            cpus=cpu_count(raw.get("ctotal")),
            memory_total_mib=memory_total,
            memory_used_mib=used(memory_total, gauge(raw.get("mfree"), MAX_MiB)),
            disk_total_mib=disk_total,
            disk_used_mib=used(disk_total, gauge(raw.get("dfree"), MAX_MiB)),
        )
        address = raw.get("pip")
        samples.append((sample, address if type(address) is str else ""))
    return samples


def vm_samples_from_rapi(items: Any) -> list[VMSample]:
    """Each running instance of ``/2/instances?bulk=1``: its memory (oper_ram) and vCPUs.

    RAPI gives no CPU time, disk or network counters of instances.
    """
    samples = []
    for raw in items if type(items) is list else []:
        if type(raw) is not dict or type(raw.get("name")) is not str or not raw["name"]:
            continue
        if raw.get("oper_state") is not True:
            continue
        node = raw.get("pnode")
        samples.append(
            VMSample(
                name=raw["name"],
                node=node if type(node) is str else "",
                vcpus=cpu_count(raw.get("oper_vcpus")),
                memory_used_mib=gauge(raw.get("oper_ram"), MAX_MiB),
            )
        )
    return samples


def mond_cpu_percent(reports: Any) -> float | None:
    """The node's CPU use in percent from mond's ``cpu-avg-load`` report, found in a list of
    reports (``/1/report/all``) or given alone.

    Its data is ``{"cpu_number": N, "cpus": [fraction busy per CPU], "cpu_total": sum}``.
    """
    if type(reports) is dict:
        reports = [reports]
    if type(reports) is not list:
        return None
    for report in reports:
        if type(report) is not dict or report.get("name") != "cpu-avg-load":
            continue
        data = report.get("data")
        if type(data) is not dict:
            return None
        cpus = data.get("cpus")
        if type(cpus) is list and cpus and len(cpus) <= MAX_CPUS:
            loads = [gauge(value, 1.0) for value in cpus]
            if all(load is not None for load in loads):
                return gauge(100 * sum(loads) / len(loads), 100.0)  # type: ignore[arg-type]
        number, total = cpu_count(data.get("cpu_number")), gauge(data.get("cpu_total"), MAX_CPUS)
        if number is None or total is None:
            return None
        return gauge(100 * total / number, 100.0)
    return None
