"""The metrics ganetiweb keeps: their names, what they measure, their units and kinds.

A series is one metric of one subject. Subjects are plain strings, ``"vm:<pk>"``,
``"node:<pk>"`` or ``"cluster:<pk>"`` (``subject()`` builds them), so that the metric store
needs no foreign key to the VMs, which live in an app above this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VM = "vm"
NODE = "node"
CLUSTER = "cluster"

# A gauge is read as it is (memory in use); a rate is computed by the sampler from two
# readings of a counter (CPU time, bytes read), so it has no value for a first sample.
GAUGE = "gauge"
RATE = "rate"


@dataclass(frozen=True)
class Metric:
    name: str
    label: Promise
    unit: str  # as printed after a value; a symbol, the same in every language
    kind: str  # GAUGE or RATE


def _table(*metrics: Metric) -> dict[str, Metric]:
    return {metric.name: metric for metric in metrics}


VM_METRICS = _table(
    Metric("cpu_percent", _("CPU"), "%", RATE),
    Metric("memory_used_mib", _("memory used"), "MiB", GAUGE),
    Metric("disk_read_bps", _("disk read"), "B/s", RATE),
    Metric("disk_write_bps", _("disk write"), "B/s", RATE),
    Metric("disk_read_iops", _("disk reads"), "IOPS", RATE),
    Metric("disk_write_iops", _("disk writes"), "IOPS", RATE),
    Metric("net_rx_bps", _("network received"), "B/s", RATE),
    Metric("net_tx_bps", _("network sent"), "B/s", RATE),
)

NODE_METRICS = _table(
    Metric("cpu_percent", _("CPU"), "%", RATE),
    Metric("memory_used_mib", _("memory used"), "MiB", GAUGE),
    Metric("memory_total_mib", _("memory total"), "MiB", GAUGE),
    Metric("disk_used_mib", _("disk used"), "MiB", GAUGE),
    Metric("disk_total_mib", _("disk total"), "MiB", GAUGE),
    Metric("load1", _("load average (1 min)"), "", GAUGE),
)

# A cluster's series, where the sampler records any, take the names of the node metrics.
CLUSTER_METRICS = NODE_METRICS

METRICS_BY_KIND = {VM: VM_METRICS, NODE: NODE_METRICS, CLUSTER: CLUSTER_METRICS}

# Every name a series may have, whatever its subject.
NAMES = frozenset(name for table in METRICS_BY_KIND.values() for name in table)


def subject(kind: str, pk: int) -> str:
    """The subject string of a VM, node or cluster: ``subject(VM, 12) == "vm:12"``."""
    if kind not in METRICS_BY_KIND:
        raise ValueError(f"Unknown subject kind {kind!r}: use one of {sorted(METRICS_BY_KIND)}.")
    return f"{kind}:{pk}"


def describe(of: str, name: str) -> Metric:
    """The metric ``name`` of subject ``of`` ("vm:12"); KeyError if that subject has none."""
    return METRICS_BY_KIND[of.split(":", 1)[0]][name]
