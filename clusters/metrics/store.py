"""The default metric history: compact, bounded series in the database.

A series is one metric of one subject ("vm:12", "cpu_percent"). It is kept at three
resolutions, each in fixed-size blocks of little-endian float32 values (NaN: no point), one
``MetricBlock`` row per block:

=========  ==========  =========  =========================  ==================================
tier       cell        block      values per block           kept
=========  ==========  =========  =========================  ==================================
raw        1 minute    1 hour     60 (one per minute)        25 blocks: 24 hours and the newest
5 minutes  5 minutes   1 day      288 x (avg, min, max)      32 blocks: 31 days and the newest
hourly     1 hour      1 week     168 x (avg, min, max)      54 blocks: 53 weeks and the newest
=========  ==========  =========  =========================  ==================================

A block is 240, 3,456 or 2,016 bytes whatever it holds, and a tier keeps at most 25, 32 or 54
blocks of a series, so a series never grows past 225,456 bytes of values (about 1.8 MB for a
VM's eight series; README "Metric history" gives the measured figure with row overhead).

**Why these blocks.** A sampling round rewrites the raw block of every series it touches, so
that block is small (an hour); the bigger 5-minute and hourly blocks are written once an hour.

**Downsampling** is a rollup at expiry: when a subject gets a newer raw block, its raw blocks
that fall out of the day are rolled into the 5-minute and hourly cells of their hour, then
deleted. A cell is computed from all the raw points of its hour at once, so its average is the
exact mean of its points (not a mean of means), and re-recording a point cannot count it twice.
``read`` computes the 5-minute and hourly cells of the hours still in the raw tier on the fly,
so a week or a year ends with the latest minute. Old blocks of a tier are deleted when a newer
block of that tier is made: retention counts from the subject's newest block of the tier (the
subject's, not the series', so one statement prunes all its series), not from the clock, so a
VM that stops keeps its last year until ``forget``.

**Time** is cut to the minute: a point's time is the start of its minute, and a second point
in the same minute replaces the first. A point older than a day before the subject's newest
raw block is dropped (its hour has been rolled up already; the sampler never sends one).

One series must not be recorded by two processes at once (a block is read, changed and written
back); sampling runs one job per cluster, and a subject belongs to one cluster.

Every statement works on SQLite and PostgreSQL. One sampling round is a few bulk statements
whatever the number of series: a SELECT per ``CHUNK`` subjects, one INSERT ... ON CONFLICT
executed for all rows, and once an hour a few more to roll up and prune.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery

from clusters.metrics.models import MetricBlock
from clusters.metrics.names import NAMES

DAY = 86_400
# Subjects per SELECT or DELETE: with a few more parameters, under the 999 that old SQLite
# builds allow in one statement.
CHUNK = 900


@dataclass(frozen=True)
class Point:
    subject: str  # "vm:<pk>", "node:<pk>", "cluster:<pk>"
    metric: str  # a name from names.py
    at: datetime  # aware, UTC
    value: float


@dataclass(frozen=True)
class Bucket:
    at: datetime
    avg: float
    min: float
    max: float


@dataclass(frozen=True)
class Tier:
    code: int
    step: int  # seconds per cell
    block: int  # seconds per block
    blocks: int  # blocks kept per subject, the newest one included
    width: int  # float32 values per cell: 1 (raw) or 3 (avg, min, max)

    @property
    def cells(self) -> int:
        return self.block // self.step

    def block_start(self, t: int) -> int:
        return t - t % self.block

    def expired(self, start: int, newest: int) -> bool:
        """Whether the block at ``start`` is out when the newest block starts at ``newest``."""
        return start <= self.oldest_out(newest)

    def oldest_out(self, newest: int) -> int:
        return newest - self.blocks * self.block

    def empty(self) -> array:
        return array("f", [math.nan]) * (self.cells * self.width)


# A whole number of blocks, so that a series' size is the same every day once it is full: the
# newest block, being filled, and enough whole ones before it for a day, 31 days and 365 days.
RAW = Tier(MetricBlock.Tier.RAW, 60, 3600, 25, 1)
FIVE_MINUTES = Tier(MetricBlock.Tier.FIVE_MINUTES, 300, DAY, 32, 3)
HOURLY = Tier(MetricBlock.Tier.HOUR, 3600, 7 * DAY, 54, 3)
ROLLUPS = (FIVE_MINUTES, HOURLY)
TIERS = {tier.code: tier for tier in (RAW, *ROLLUPS)}

Series = tuple[str, str]  # (subject, metric)
Key = tuple[str, str, int, int]  # (subject, metric, tier code, block start)


def record(points: Iterable[Point]) -> None:
    """Store points; recording the same (subject, metric, at) again changes nothing."""
    batch: dict[Series, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for point in points:
        if point.at.tzinfo is None:
            raise ValueError(f"{point}: the time must be aware (UTC).")
        if math.isnan(point.value):
            continue
        t = math.floor(point.at.timestamp())
        start = RAW.block_start(t)
        batch[point.subject, point.metric][start][(t - start) // RAW.step] = point.value
    unknown = {metric for _, metric in batch} - NAMES
    if unknown:
        raise ValueError(
            f"Unknown metrics {sorted(unknown)}: add them to clusters/metrics/names.py."
        )
    if batch:
        with transaction.atomic():
            _record(batch)


def read(subject: str, metric: str, start: datetime, end: datetime) -> list[Bucket]:
    """The cells of a series that overlap [start, end], oldest first: raw minutes for a day or
    less, 5-minute cells for 31 days or less, hourly cells beyond."""
    first, last = _seconds(start), _seconds(end)
    span = last - first
    tier = RAW if span <= DAY else FIVE_MINUTES if span <= 31 * DAY else HOURLY
    rows = MetricBlock.objects.filter(
        subject=subject,
        metric=metric,
        tier__in={RAW.code, tier.code},
        start__gt=first - tier.block,
        start__lte=last,
    ).values_list("tier", "start", "data")
    cells: dict[int, tuple[float, float, float]] = {}
    raw_blocks = []
    for code, block_start, data in rows:
        values = _unpack(data)
        if tier is RAW:
            cells.update(
                (block_start + i * RAW.step, (value, value, value))
                for i, value in enumerate(values)
                if not math.isnan(value)
            )
        elif code == tier.code:
            cells.update(_cells(tier, block_start, values))
        else:
            raw_blocks.append((block_start, values))
    # The hours still in the raw tier have no rolled-up cells yet.
    for block_start, values in raw_blocks:
        cells.update(_rollup(tier, block_start, values))
    return [
        Bucket(datetime.fromtimestamp(at, UTC), *cell)
        for at, cell in sorted(cells.items())
        if at + tier.step > first and at <= last
    ]


def latest(subjects: Iterable[str], metric: str) -> dict[str, Point]:
    """The newest raw point of ``metric`` for each subject that has one."""
    newest = (
        MetricBlock.objects.filter(tier=RAW.code, metric=metric, subject=OuterRef("subject"))
        .order_by("-start")
        .values("start")[:1]
    )
    found = {}
    for chunk in _chunks(subjects):
        rows = MetricBlock.objects.filter(
            tier=RAW.code, metric=metric, subject__in=chunk, start=Subquery(newest)
        ).values_list("subject", "start", "data")
        for subject, start, data in rows:
            values = _unpack(data)
            slot = max((i for i, value in enumerate(values) if not math.isnan(value)), default=-1)
            if slot < 0:
                continue
            at = datetime.fromtimestamp(start + slot * RAW.step, UTC)
            found[subject] = Point(subject, metric, at, values[slot])
    return found


def forget(subjects: Iterable[str]) -> None:
    """Delete every series of these subjects (a VM or node that is gone)."""
    for chunk in _chunks(subjects):
        MetricBlock.objects.filter(subject__in=chunk).delete()


def _record(batch: dict[Series, dict[int, dict[int, float]]]) -> None:
    subjects = {subject for subject, _ in batch}
    metrics = {metric for _, metric in batch}
    starts = [start for blocks in batch.values() for start in blocks]
    existing: dict[Key, array] = {}
    for subject, metric, code, start, data in _rows(
        [RAW], subjects, metrics=metrics, start__range=(min(starts), max(starts))
    ):
        if start in batch.get((subject, metric), ()):
            existing[subject, metric, code, start] = _unpack(data)

    # Only a subject that gets a new raw block can get a newer newest one.
    growing = {
        series[0]
        for series, blocks in batch.items()
        if any((*series, RAW.code, start) not in existing for start in blocks)
    }
    newest: dict[str, int] = {}
    for chunk in _chunks(growing):
        found = (
            MetricBlock.objects.filter(tier=RAW.code, subject__in=chunk)
            .values_list("subject")
            .annotate(newest=Max("start"))
        )
        newest.update(found)

    raw: dict[Key, array] = {}  # the raw blocks to write, changed
    moved: dict[str, int] = {}  # the subjects' new newest raw blocks
    for series, blocks in batch.items():
        old = newest.get(series[0])
        for start, slots in blocks.items():
            key = (*series, RAW.code, start)
            values = existing.get(key)
            if values is None:
                if old is not None and RAW.expired(start, old):
                    continue  # rolled up and gone already
                values = RAW.empty()
                if old is None or start > old:
                    moved[series[0]] = max(moved.get(series[0], start), start)
            for slot, value in slots.items():
                values[slot] = value
            raw[key] = values

    # The raw blocks out of the day are rolled into the other tiers, then deleted.
    expiring = {key: values for key, values in raw.items() if _out(RAW, key, moved)}
    for key in expiring:
        del raw[key]  # made or changed by this batch, and expired at once
    had_blocks = {subject: start for subject, start in moved.items() if subject in newest}
    for last, chunk in _expiry(RAW, had_blocks):
        for subject, metric, code, start, data in _rows([RAW], chunk, start__lte=last):
            expiring.setdefault((subject, metric, code, start), _unpack(data))
        MetricBlock.objects.filter(tier=RAW.code, subject__in=chunk, start__lte=last).delete()
    _write({**raw, **(_roll(expiring) if expiring else {})})


def _roll(expiring: dict[Key, array]) -> dict[Key, array]:
    """Put the cells of expiring raw blocks into their 5-minute and hourly blocks; return those
    blocks, and delete the blocks of those tiers that the new ones push out."""
    cells: dict[Key, dict[int, tuple[float, float, float]]] = defaultdict(dict)
    for (subject, metric, _, start), values in expiring.items():
        for tier in ROLLUPS:
            target = (subject, metric, tier.code, tier.block_start(start))
            cells[target].update(_rollup(tier, start, values))
    starts = [key[3] for key in cells]
    blocks: dict[Key, array] = {}
    for subject, metric, code, start, data in _rows(
        ROLLUPS, {key[0] for key in cells}, start__range=(min(starts), max(starts))
    ):
        if (subject, metric, code, start) in cells:
            blocks[subject, metric, code, start] = _unpack(data)

    # A subject's rollups go forward in time (older hours were rolled up before, and points for
    # them are dropped), so a new block is the newest of its tier for its subject.
    moved: dict[int, dict[str, int]] = {tier.code: {} for tier in ROLLUPS}
    for subject, metric, code, start in cells:
        if (subject, metric, code, start) not in blocks:
            blocks[subject, metric, code, start] = TIERS[code].empty()
            moved[code][subject] = max(moved[code].get(subject, start), start)
    for key, by_time in cells.items():
        step = TIERS[key[2]].step
        values = blocks[key]
        for at, cell in by_time.items():
            i = (at - key[3]) // step * 3
            values[i : i + 3] = array("f", cell)
    for tier in ROLLUPS:
        for last, chunk in _expiry(tier, moved[tier.code]):
            MetricBlock.objects.filter(tier=tier.code, subject__in=chunk, start__lte=last).delete()
    return {
        key: values for key, values in blocks.items() if not _out(TIERS[key[2]], key, moved[key[2]])
    }


def _out(tier: Tier, key: Key, moved: dict[str, int]) -> bool:
    """Whether the block ``key`` of ``tier`` is out of its subject's retention once the subject's
    newest block of the tier is the one in ``moved`` (if it is there)."""
    return key[0] in moved and tier.expired(key[3], moved[key[0]])


def _expiry(tier: Tier, moved: dict[str, int]) -> Iterator[tuple[int, list[str]]]:
    """(last start kept out, subjects) for the subjects whose newest block of the tier moved:
    the blocks of those subjects that start at or before it are out of retention."""
    by_last: dict[int, list[str]] = defaultdict(list)
    for subject, newest in moved.items():
        by_last[tier.oldest_out(newest)].append(subject)
    for last, subjects in by_last.items():
        for chunk in _chunks(subjects):
            yield last, chunk


def _rollup(tier: Tier, start: int, raw: array) -> Iterator[tuple[int, tuple[float, float, float]]]:
    """The cells of ``tier`` computed from the raw block at ``start``: (time, (avg, min, max))."""
    per_cell = tier.step // RAW.step
    cells: dict[int, list[float]] = {}
    for i, value in enumerate(raw):
        if value == value:  # not NaN
            cells.setdefault(i // per_cell, []).append(value)
    for cell, points in cells.items():
        yield start + cell * tier.step, (sum(points) / len(points), min(points), max(points))


def _cells(
    tier: Tier, start: int, values: array
) -> Iterator[tuple[int, tuple[float, float, float]]]:
    """The cells of a 5-minute or hourly block that hold points."""
    for i in range(tier.cells):
        avg = values[3 * i]
        if not math.isnan(avg):
            yield start + i * tier.step, (avg, values[3 * i + 1], values[3 * i + 2])


def _rows(
    tiers: Iterable[Tier],
    subjects: Iterable[str],
    metrics: set[str] | None = None,
    **where: object,
) -> Iterator[tuple[str, str, int, int, bytes]]:
    """The blocks of these tiers and subjects (and metrics), as (subject, metric, tier, start,
    data): a superset of the blocks wanted, the caller keeps those it needs."""
    if metrics is not None:
        where["metric__in"] = metrics
    codes = [tier.code for tier in tiers]
    for chunk in _chunks(subjects):
        yield from MetricBlock.objects.filter(
            tier__in=codes, subject__in=chunk, **where
        ).values_list("subject", "metric", "tier", "start", "data")


def _write(blocks: dict[Key, array]) -> None:
    """Insert or replace these blocks in one statement executed for every row."""
    if not blocks:
        return
    quote = connection.ops.quote_name
    table = quote(MetricBlock._meta.db_table)
    unique = ", ".join(quote(name) for name in ("subject", "metric", "tier", "start"))
    data = quote("data")
    # Only quoted names of the model's own table and columns go into the text; values are
    # parameters.
    insert = f"INSERT INTO {table} ({unique}, {data}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    sql = f"{insert} ON CONFLICT ({unique}) DO UPDATE SET {data} = excluded.{data}"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*key, _pack(values)) for key, values in blocks.items()])


def _chunks(subjects: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(subjects))
    for first in range(0, len(ordered), CHUNK):
        yield ordered[first : first + CHUNK]


def _seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError(f"{at}: the time must be aware (UTC).")
    return math.floor(at.timestamp())


def _unpack(data: bytes | memoryview) -> array:
    values = array("f", bytes(data))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _pack(values: array) -> bytes:
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    return values.tobytes()
