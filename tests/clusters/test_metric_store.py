"""The metric history store (clusters/metrics/store.py) on the real database: downsampling,
retention, the choice of resolution, and the statements one sampling round costs."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from clusters.metrics import names
from clusters.metrics.models import MetricBlock
from clusters.metrics.store import Point, forget, latest, read, record

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 1, tzinfo=UTC)
VM_METRICS = sorted(names.VM_METRICS)
MINUTE = timedelta(minutes=1)


def value(i: int) -> float:
    """A repeatable, irregular series of whole numbers (exact in float32)."""
    return float((i * 37 + i // 7) % 1001)


def feed(inputs: dict[datetime, float], start: datetime, minutes: int, every: int = 1, **kw):
    """Record a point every ``every`` minutes for ``minutes`` minutes, an hour (or a day for
    sparse input) per call as the sampler would; remember each point in ``inputs``."""
    subject = kw.get("subject", "vm:1")
    metric = kw.get("metric", "cpu_percent")
    per_call = 60 if every == 1 else 1440
    for first in range(0, minutes, per_call):
        points = []
        for m in range(first, min(first + per_call, minutes), every):
            at = start + m * MINUTE
            inputs[at] = value(int(at.timestamp()) // 60)
            points.append(Point(subject, metric, at, inputs[at]))
        record(points)


def expected(inputs: dict[datetime, float], step: int, start: datetime, end: datetime):
    """(time, avg, min, max) of each cell of ``step`` seconds, computed from the inputs."""
    cells = defaultdict(list)
    for at, v in inputs.items():
        cell = int(at.timestamp()) // step * step
        cells[cell].append(v)
    return [
        (datetime.fromtimestamp(cell, UTC), sum(vs) / len(vs), min(vs), max(vs))
        for cell, vs in sorted(cells.items())
        if cell + step > start.timestamp() and cell <= end.timestamp()
    ]


def assert_buckets(buckets, cells):
    assert [b.at for b in buckets] == [c[0] for c in cells]
    got = [x for b in buckets for x in (b.avg, b.min, b.max)]
    want = [x for c in cells for x in c[1:]]
    assert got == pytest.approx(want, rel=1e-6)


def blocks(subject="vm:1"):
    return sorted(
        (row[:4], bytes(row[4]))
        for row in MetricBlock.objects.filter(subject=subject).values_list(
            "metric", "tier", "start", "subject", "data"
        )
    )


def spacing(buckets) -> set[int]:
    return {int((b.at - a.at).total_seconds()) for a, b in zip(buckets, buckets[1:], strict=False)}


def test_five_minute_and_hourly_cells_are_the_exact_mean_min_and_max_of_the_raw_points():
    # Three days of one point a minute: the first two are rolled up into the 5-minute and hourly
    # tiers and leave the raw tier; the last day is still raw, and read() rolls it up itself.
    inputs: dict[datetime, float] = {}
    feed(inputs, T0, 3 * 1440)
    tiers = defaultdict(int)
    for tier in MetricBlock.objects.values_list("tier", flat=True):
        tiers[tier] += 1
    assert tiers == {
        MetricBlock.Tier.RAW: 25,
        MetricBlock.Tier.FIVE_MINUTES: 2,
        MetricBlock.Tier.HOUR: 1,
    }

    end = T0 + timedelta(days=3)
    assert_buckets(
        read("vm:1", "cpu_percent", T0, T0 + timedelta(days=7)),
        expected(inputs, 300, T0, T0 + timedelta(days=7)),
    )
    assert_buckets(
        read("vm:1", "cpu_percent", T0, T0 + timedelta(days=365)), expected(inputs, 3600, T0, end)
    )
    last_day = end - timedelta(days=1)
    raw = read("vm:1", "cpu_percent", last_day, end)
    assert_buckets(raw, expected(inputs, 60, last_day, end))
    assert len(raw) == 1440


def test_a_year_of_points_keeps_a_year_of_exact_hourly_cells_and_a_month_of_five_minute_ones():
    # 400 days of one point every 10 minutes, recorded a day at a time.
    inputs: dict[datetime, float] = {}
    feed(inputs, T0, 400 * 1440, every=10)
    end = T0 + timedelta(days=400)

    year = end - timedelta(days=365)
    hourly = read("vm:1", "cpu_percent", year, end)
    assert spacing(hourly) == {3600}
    assert_buckets(hourly, expected(inputs, 3600, year, end))

    month = end - timedelta(days=31)
    five = read("vm:1", "cpu_percent", month, end)
    assert spacing(five) == {600}  # a point every 10 minutes: every other 5-minute cell
    assert_buckets(five, expected(inputs, 300, month, end))

    # Older than the hourly tier's 54 weeks is gone; 5-minute cells older than 32 days too.
    everything = read("vm:1", "cpu_percent", T0, end)
    assert everything[0].at > end - timedelta(weeks=55)
    assert everything[0].at <= end - timedelta(days=365)
    assert read("vm:1", "cpu_percent", end - timedelta(days=60), end - timedelta(days=40)) == []
    assert len(read("vm:1", "cpu_percent", T0, T0 + timedelta(days=30))) == 0


def test_read_picks_the_resolution_by_the_length_of_the_range():
    inputs: dict[datetime, float] = {}
    feed(inputs, T0, 40 * 1440, every=10)
    now = T0 + timedelta(days=42)
    feed(inputs, T0 + timedelta(days=40), 2 * 1440)
    resolutions = {
        timedelta(hours=1): 60,
        timedelta(days=1): 60,
        timedelta(days=7): 300,
        timedelta(days=30): 300,
        timedelta(days=31): 300,
        timedelta(days=32): 3600,
        timedelta(days=365): 3600,
    }
    for length, step in resolutions.items():
        buckets = read("vm:1", "cpu_percent", now - length, now)
        assert min(spacing(buckets)) == step, length
        assert all(int(b.at.timestamp()) % step == 0 for b in buckets)


def test_recording_the_same_points_again_changes_nothing():
    inputs: dict[datetime, float] = {}
    feed(inputs, T0, 2 * 1440)
    before = blocks()
    # The last day again, each point twice, and points of hours already rolled up.
    again = [Point("vm:1", "cpu_percent", at, v) for at, v in inputs.items()]
    record(again[-1440:] * 2)
    record(again[:120])
    assert blocks() == before


def test_a_second_point_in_the_same_minute_replaces_the_first():
    record([Point("vm:1", "cpu_percent", T0, 1.0)])
    record([Point("vm:1", "cpu_percent", T0 + timedelta(seconds=30), 2.0)])
    assert [(b.at, b.avg) for b in read("vm:1", "cpu_percent", T0, T0 + MINUTE)] == [(T0, 2.0)]


def test_the_stored_size_of_a_vm_is_the_same_after_one_year_and_after_two():
    # One point an hour for each of a VM's eight metrics; a block's size does not depend on
    # how many points it holds, so this stores what a point a minute would.
    def feed_vm(first_day, days):
        for week in range(first_day, first_day + days, 7):
            record(
                Point("vm:1", metric, T0 + timedelta(hours=hour), value(hour))
                for hour in range(week * 24, (week + 7) * 24)
                for metric in VM_METRICS
            )

    def size():
        rows = blocks()
        return len(rows), sum(len(data) for _, data in rows)

    feed_vm(0, 427)  # a year, and enough to fill the tiers: 61 weeks
    after_one_year = size()
    feed_vm(427, 371)  # 53 more weeks
    assert size() == after_one_year
    per_series = 25 * 240 + 32 * 288 * 12 + 54 * 168 * 12
    assert after_one_year == (8 * (25 + 32 + 54), 8 * per_series)
    assert after_one_year[1] == 1_803_648


def test_forget_removes_every_series_of_a_subject():
    for subject in ("vm:1", "vm:2"):
        for metric in ("cpu_percent", "net_rx_bps"):
            feed({}, T0, 2 * 1440, subject=subject, metric=metric)
    kept = blocks("vm:2")
    forget(["vm:1", "node:99"])
    assert not MetricBlock.objects.filter(subject="vm:1").exists()
    assert blocks("vm:2") == kept
    assert read("vm:1", "cpu_percent", T0, T0 + timedelta(days=365)) == []
    assert latest(["vm:1"], "cpu_percent") == {}


def test_latest_gives_the_newest_point_of_each_subject_that_has_one():
    record(
        [
            Point("vm:1", "cpu_percent", T0, 1.0),
            Point("vm:1", "cpu_percent", T0 + 90 * MINUTE, 2.0),
            Point("vm:2", "cpu_percent", T0 + 5 * MINUTE, 3.0),
            Point("vm:2", "net_rx_bps", T0 + 9 * MINUTE, 4.0),
        ]
    )
    assert latest(["vm:1", "vm:2", "vm:3"], "cpu_percent") == {
        "vm:1": Point("vm:1", "cpu_percent", T0 + 90 * MINUTE, 2.0),
        "vm:2": Point("vm:2", "cpu_percent", T0 + 5 * MINUTE, 3.0),
    }


def test_it_refuses_naive_times_and_unknown_metrics():
    with pytest.raises(ValueError, match="aware"):
        record([Point("vm:1", "cpu_percent", datetime(2024, 1, 1), 1.0)])
    with pytest.raises(ValueError, match="names.py"):
        record([Point("vm:1", "cpu_seconds", T0, 1.0)])


def round_of(vms: int, at: datetime) -> list[Point]:
    return [Point(f"vm:{vm}", metric, at, float(vm)) for vm in range(vms) for metric in VM_METRICS]


def test_a_sampling_round_of_a_thousand_vms_is_a_few_statements(django_assert_max_num_queries):
    # 8,000 points. Each bound counts SELECTs by 900 subjects, the savepoint pair, and one
    # INSERT executed for all rows; none grows with the number of series beyond the chunks.
    with django_assert_max_num_queries(8):  # new series: also their newest blocks
        record(round_of(1000, T0))
    with django_assert_max_num_queries(6):  # the same hour: read, change, write back
        record(round_of(1000, T0 + MINUTE))
    # A day later the first hour leaves the raw tier: rolled up, deleted, new blocks pruned.
    with django_assert_max_num_queries(20):
        record(round_of(1000, T0 + timedelta(hours=25)))
    assert MetricBlock.objects.filter(tier=MetricBlock.Tier.FIVE_MINUTES).count() == 8000
    cell = read("vm:7", "disk_read_bps", T0, T0 + timedelta(days=2))
    assert [(b.at, b.avg, b.min, b.max) for b in cell] == [
        (T0, 7.0, 7.0, 7.0),
        (T0 + timedelta(hours=25), 7.0, 7.0, 7.0),
    ]
