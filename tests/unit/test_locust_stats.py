"""The Locust stats file: windows per worker, merged per second, tailed line by line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagstorm.workloads.locust_swarm.stats_lines import (
    EndLine,
    SecondAggregator,
    StatsFormatError,
    StatsTail,
    TriggeredLine,
    WindowAccumulator,
    WindowLine,
    parse_line,
)


def test_the_accumulator_counts_requests_records_and_failures_per_second() -> None:
    acc = WindowAccumulator(worker=3)
    acc.add(100, records=500, acked=500, size=170_000, latency_ms=40.4, ok=True)
    acc.add(100, records=500, acked=490, size=166_000, latency_ms=90.6, ok=False)
    acc.add(101, records=500, acked=500, size=170_000, latency_ms=41, ok=True)
    (first,) = acc.drain(before=101)
    assert first == WindowLine(
        worker=3,
        second=100,
        requests=2,
        failures=1,
        records=1000,
        acked=990,
        failed=10,
        bytes=336_000,
        latency_ms={40: 1, 91: 1},
    )
    assert len(acc) == 1
    (second,) = acc.drain()
    assert (second.second, second.latency_ms) == (101, {41: 1})
    assert acc.drain() == []


def test_windows_survive_the_json_round_trip_the_master_makes() -> None:
    window = WindowLine(worker=0, second=5, requests=1, records=1, acked=1, latency_ms={12: 3})
    assert parse_line(window.model_dump_json()) == window
    trig = TriggeredLine(worker=1, dag_id="d", run_id="r", ok=True, status=200, conf={"a": 1})
    assert parse_line(trig.model_dump_json()) == trig
    end = EndLine(complete=True, reason="duration", requests=9)
    assert parse_line(end.model_dump_json()) == end


@pytest.mark.parametrize(
    "text",
    ['{"type": "window"}', '{"type": "bogus"}', "not json", '{"type": "end", "complete": 1.5}'],
)
def test_an_unreadable_line_is_a_clear_error(text: str) -> None:
    with pytest.raises(StatsFormatError) as info:
        parse_line(text, where="stats.jsonl:7")
    assert info.value.where == "stats.jsonl:7"
    assert "same dagstorm version" in (info.value.fix or "")


def test_seconds_merge_every_worker_and_wait_for_late_reports() -> None:
    agg = SecondAggregator(lag=6.0)
    agg.add(WindowLine(worker=0, second=100, requests=2, records=2, acked=2, latency_ms={10: 2}))
    assert agg.flush(now=106.9) == []  # a worker reporting every 3 s may still send second 100
    agg.add(WindowLine(worker=1, second=100, requests=1, records=1, failed=1, latency_ms={50: 1}))
    agg.add(WindowLine(worker=1, second=101, requests=1, records=1, acked=1, latency_ms={20: 1}))
    (merged,) = agg.flush(now=107.0)
    assert (merged.second, merged.workers, merged.requests) == (100, 2, 3)
    assert (merged.records, merged.acked, merged.failed) == (3, 2, 1)
    assert (merged.p50_ms, merged.p99_ms) == (10.0, 50.0)
    fields = merged.event_fields()
    assert fields["interval_s"] == 1.0 and fields["second"] == 100
    (rest,) = agg.flush_all()
    assert rest.second == 101 and agg.flush_all() == []


def test_a_second_without_latencies_has_no_percentiles() -> None:
    agg = SecondAggregator()
    agg.add(WindowLine(worker=0, second=1))
    (merged,) = agg.flush_all()
    assert "p50_ms" not in merged.event_fields()


@given(st.dictionaries(st.integers(0, 10_000), st.integers(1, 50), min_size=1))
def test_percentiles_are_nearest_rank_of_the_merged_histogram(hist: dict[int, int]) -> None:
    values = sorted(v for v, n in hist.items() for _ in range(n))
    agg = SecondAggregator()
    agg.add(WindowLine(worker=0, second=1, latency_ms=hist))
    (merged,) = agg.flush_all()
    for q, got in ((0.5, merged.p50_ms), (0.99, merged.p99_ms)):
        assert got == values[max(1, math.ceil(q * len(values))) - 1]


def test_the_tail_reads_complete_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"
    tail = StatsTail(path)
    assert tail.read() == []  # not written yet
    line = WindowLine(worker=0, second=1, requests=1).model_dump_json()
    end = EndLine(complete=True, reason="duration").model_dump_json()
    path.write_text(line + "\n" + end[:10])
    assert [type(x) for x in tail.read()] == [WindowLine]
    with path.open("a") as handle:
        handle.write(end[10:] + "\n\n")
    assert tail.read() == [EndLine(complete=True, reason="duration")]
    assert tail.read() == []


def test_a_bad_line_names_its_file_and_line_number(tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"
    path.write_text(EndLine(complete=True, reason="x").model_dump_json() + "\n{}\n")
    with pytest.raises(StatsFormatError) as info:
        StatsTail(path).read()
    assert info.value.where == f"{path}:2"
