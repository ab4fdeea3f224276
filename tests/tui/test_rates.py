"""The traffic and scheduler figures agree with their sparklines."""

from __future__ import annotations

from dagstorm.tui.format import megabytes
from dagstorm.tui.series import RecentTimes, SecondBins
from dagstorm.tui.widgets.traffic import rate


def test_a_workload_that_reports_every_few_seconds_has_a_rate_in_between() -> None:
    bins = SecondBins(120)
    for t in range(0, 60, 5):  # 500 records every 5 s: 100 records/s
        bins.add(t + 0.3, 500)
    rates = [rate(bins, now) for now in (31.0, 32.5, 34.9)]
    assert all(r == 100.0 for r in rates), rates


def test_a_trickle_of_megabytes_is_not_shown_as_zero() -> None:
    assert megabytes(0.0) == "0.00" and megabytes(0.0466) == "0.05"
    assert megabytes(0.0046) == "0.0046"
    assert megabytes(0.00001) == "<0.0001"


def test_tries_of_the_last_60_s_count_at_the_start_of_a_minute() -> None:
    starts = RecentTimes()
    for t in (50.0, 59.5, 61.0, 1.0):  # out of order, as probes report them
        starts.add(t)
    # At 62 s, minute 1 has one try so far and minute 0 is complete; the last 60 s: 3.
    assert starts.count(62.0, 60) == 3
    assert starts.count(200.0, 60) == 0


def test_recent_times_forget_what_is_older_than_their_window() -> None:
    times = RecentTimes(window=10)
    for t in range(100):
        times.add(float(t))
    assert times.count(99.0, 1000) == 11  # 89..99
