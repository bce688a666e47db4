"""Metric readings of libvirt hosts: one ``getAllDomainStats`` call per host for every running
VM, the host's CPU and memory counters, and its storage pools' usage.

Parsing (and distrust of every figure) is in sample_parse; this module only asks.
"""

from __future__ import annotations

import libvirt

from .base import NodeSample, VMSample
from .sample_parse import (
    cpu_count,
    host_cpu_times,
    host_memory_used,
    pool_usage,
    vm_sample_from_stats,
)

# Per-vCPU stats (VIR_DOMAIN_STATS_VCPU) are left out: they cost a line per vCPU on big hosts,
# and the job takes the vCPU count from the inventory.
SAMPLE_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)

HOST_CPU_UNAVAILABLE = "host CPU use (a libvirt host does not give it)"
HOST_MEMORY_UNAVAILABLE = "host memory use (a libvirt host does not give it)"
LOAD_AVERAGE_UNAVAILABLE = "load average (libvirt does not give it)"


def sample_host(conn: libvirt.virConnect, uri: str) -> tuple[NodeSample, list[VMSample], set[str]]:
    """The host's readings, its running VMs' readings, and what it could not give."""
    hostname = conn.getHostname()
    vms = []
    flags = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
    for domain, stats in conn.getAllDomainStats(SAMPLE_STATS, flags):
        # The run is the host: counters start again on another host after a migration. (A
        # restart on the same host is seen by the counters going back: the domain's id would
        # tell it too, but getAllDomainStats hands out domains without their id.)
        vm = vm_sample_from_stats(domain.name(), stats, hostname, hostname)
        if vm is not None:
            vms.append(vm)
    missing: set[str] = {LOAD_AVERAGE_UNAVAILABLE}
    busy, total = host_cpu_times(
        _unless_unsupported(conn.getCPUStats, libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
    )
    if busy is None:
        missing.add(HOST_CPU_UNAVAILABLE)
    memory_used, memory_total = host_memory_used(
        _unless_unsupported(conn.getMemoryStats, libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
    )
    if memory_used is None:
        missing.add(HOST_MEMORY_UNAVAILABLE)
    pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    disk_used, disk_total = pool_usage([_pool_info(pool) for pool in pools])
    node = NodeSample(
        name=hostname,
        run=hostname,
        cpus=cpu_count(conn.getInfo()[2]),
        cpu_busy_ns=busy,
        cpu_total_ns=total,
        memory_used_mib=memory_used,
        memory_total_mib=memory_total,
        disk_used_mib=disk_used,
        disk_total_mib=disk_total,
    )
    return node, vms, missing


def _unless_unsupported(call, *args):
    """The call's answer; None where the driver does not support it (libvirt's test driver)."""
    try:
        return call(*args)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG):
            raise
        return None


def _pool_info(pool: libvirt.virStoragePool) -> list | None:
    try:
        return pool.info()
    except libvirt.libvirtError:
        return None  # stopped or removed between the two calls
