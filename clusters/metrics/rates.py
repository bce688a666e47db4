"""Turn two readings of counters into rates: CPU %, bytes/s, requests/s.

Plain Python, no Django: the metrics job (vms/metrics.py) keeps the previous readings between
rounds and hands both here.

A counter only grows while its VM or host runs. One that went back (the VM restarted, or
moved to another host and counts from zero there) gives no rate for that round, never a
negative spike; so does a reading of another run (`Counters.run`: another host after a
migration), a gap longer than `max_gap` (the rate would be an average over hours), and a
rate past what the hardware could do.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

NS_PER_S = 1e9
# A CPU share a little above 100 % comes from the two readings' timing; far above is nonsense.
CPU_SLACK = 1.1
# Rates no disk or link reaches: 1 TB/s, 100 million requests/s.
MAX_BYTES_PER_S = 1e12
MAX_REQUESTS_PER_S = 1e8


@dataclass
class Counters:
    """One subject's counters at one reading; `run` changes when they may restart."""

    run: str = ""
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class Reading:
    """Every subject's counters at one moment (`at`, seconds since the epoch)."""

    at: float
    subjects: dict[str, Counters] = field(default_factory=dict)


def per_second(
    previous: Counters | None, previous_at: float, current: Counters, at: float, max_gap: float
) -> dict[str, float]:
    """The per-second rate of each counter present in both readings of the same run."""
    elapsed = at - previous_at
    if previous is None or previous.run != current.run or not 0 < elapsed <= max_gap:
        return {}
    rates = {}
    for name, value in current.values.items():
        before = previous.values.get(name)
        if before is None or value < before:
            continue  # new, or started again from zero
        rates[name] = (value - before) / elapsed
    return rates


def cpu_percent(busy_ns_per_s: float | None, cpus: float | None) -> float | None:
    """CPU time used per second (ns/s) as a share of `cpus` CPUs, in percent (0 to 100)."""
    if busy_ns_per_s is None or not cpus or cpus <= 0:
        return None
    percent = 100 * busy_ns_per_s / (cpus * NS_PER_S)
    if not 0 <= percent <= 100 * CPU_SLACK:
        return None
    return min(percent, 100.0)


def share_percent(busy_per_s: float | None, total_per_s: float | None) -> float | None:
    """Busy time as a share of all time counted (a host's CPU counters), in percent."""
    if busy_per_s is None or not total_per_s or total_per_s <= 0:
        return None
    percent = 100 * busy_per_s / total_per_s
    return percent if 0 <= percent <= 100 else None


def bounded(rate: float | None, maximum: float) -> float | None:
    """The rate, unless it is past what hardware does (then a counter was garbage)."""
    if rate is None or not math.isfinite(rate) or not 0 <= rate <= maximum:
        return None
    return rate


# --- keeping a reading between rounds (as JSON, in Redis)


def dumps(reading: Reading) -> str:
    return json.dumps(
        {
            "at": reading.at,
            "subjects": {s: [c.run, c.values] for s, c in reading.subjects.items()},
        },
        separators=(",", ":"),
    )


def loads(text: str | bytes | None) -> Reading | None:
    """A reading written by `dumps`; None for anything else (a missing or damaged value)."""
    if not text:
        return None
    try:
        data: Any = json.loads(text)
        at = float(data["at"])
        subjects = {
            str(subject): Counters(run=str(run), values=_values(values))
            for subject, (run, values) in data["subjects"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return Reading(at=at, subjects=subjects)


def _values(values: Any) -> dict[str, float]:
    return {
        str(name): float(value)
        for name, value in values.items()
        if type(value) in (int, float) and math.isfinite(value)
    }
