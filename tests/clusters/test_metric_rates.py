"""Counters become rates; a counter that went back gives no point, never a negative one."""

from clusters.metrics import rates
from clusters.metrics.rates import Counters, Reading


def test_two_readings_give_per_second_rates():
    before = Counters("host1", {"bytes": 1000, "cpu": 0})
    after = Counters("host1", {"bytes": 3000, "cpu": 5e8, "new": 7})
    assert rates.per_second(before, 100.0, after, 110.0, max_gap=180) == {
        "bytes": 200.0,
        "cpu": 5e7,
    }


def test_a_counter_that_went_back_gives_no_rate():
    before = Counters("host1", {"bytes": 5000, "cpu": 9e9})
    after = Counters("host1", {"bytes": 100, "cpu": 9.5e9})
    assert rates.per_second(before, 0.0, after, 60.0, max_gap=180) == {"cpu": 5e8 / 60}


def test_a_reading_on_another_host_or_too_old_or_first_gives_no_rate():
    before = Counters("host1", {"bytes": 0})
    moved = Counters("host2", {"bytes": 10**9})
    assert rates.per_second(before, 0.0, moved, 60.0, max_gap=180) == {}
    same = Counters("host1", {"bytes": 10})
    assert rates.per_second(before, 0.0, same, 600.0, max_gap=180) == {}
    assert rates.per_second(before, 60.0, same, 60.0, max_gap=180) == {}
    assert rates.per_second(None, 0.0, same, 60.0, max_gap=180) == {}


def test_cpu_time_becomes_a_share_of_the_vcpus():
    assert rates.cpu_percent(5e8, 1) == 50.0
    assert rates.cpu_percent(5e8, 2) == 25.0
    assert rates.cpu_percent(1.05e9, 1) == 100.0  # timing slack, capped
    assert rates.cpu_percent(5e9, 1) is None  # impossible: garbage
    assert rates.cpu_percent(5e8, 0) is None
    assert rates.cpu_percent(None, 1) is None
    assert rates.share_percent(30.0, 120.0) == 25.0
    assert rates.share_percent(30.0, 0) is None
    assert rates.bounded(2e12, rates.MAX_BYTES_PER_S) is None
    assert rates.bounded(float("nan"), rates.MAX_BYTES_PER_S) is None


def test_a_reading_survives_json_and_a_damaged_one_reads_as_none():
    reading = Reading(at=12.5, subjects={"vm:1": Counters("h", {"cpu": 3.0})})
    assert rates.loads(rates.dumps(reading)) == reading
    for junk in (None, b"", b"{", b'{"at": "x", "subjects": {}}', b'{"subjects": []}', b"[]"):
        assert rates.loads(junk) is None
    assert rates.loads(b'{"at": 1, "subjects": {"vm:1": ["h", {"cpu": "NaN", "x": 2}]}}') == (
        Reading(at=1.0, subjects={"vm:1": Counters("h", {"x": 2.0})})
    )
