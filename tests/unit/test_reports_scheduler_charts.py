"""The report's scheduling-delay and StatsD scheduler series, on hand-built frames."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd

from dagstorm.analysis import analyze
from dagstorm.reports import render_report
from dagstorm.reports.charts.series import _queue_delay_per_minute, _scheduler_gauges

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_queue_delay_percentiles_per_minute_of_the_start() -> None:
    tries = pd.DataFrame(
        {
            # minute 0: delays 1, 2, 3 ... 20 s (20 tries); minute 2: one try, 0.5 s
            "queued_when_t": [10.0 - d for d in range(1, 21)] + [125.0],
            "start_date_t": [10.0] * 20 + [125.5],
        }
    )
    tries.loc[len(tries)] = [math.nan, 30.0]  # never queued (no delay): left out
    series = _queue_delay_per_minute(tries)
    assert series["p50"] == ((0.0, 10.0), (120.0, 0.5))
    assert series["p95"] == ((0.0, 19.0), (120.0, 0.5))


def test_queue_delay_is_empty_without_tries() -> None:
    assert _queue_delay_per_minute(pd.DataFrame(columns=["queued_when_t", "start_date_t"])) == {}


def test_scheduler_gauges_sum_suffixes_per_sample_and_average_per_bucket() -> None:
    statsd = pd.DataFrame(
        {
            "t": [1.0, 1.0, 3.0, 3.0, 1.0, 2.0, 7.0],
            "metric": [
                "scheduler.tasks.executable",
                "scheduler.tasks.executable",
                "scheduler.tasks.executable",
                "scheduler.tasks.executable",
                "executor.open_slots.LocalExecutor",
                "executor.open_slots.LocalExecutor",
                "scheduler.scheduler_loop_duration",
            ],
            "type": ["gauge"] * 6 + ["timer"],
            "value": [2.0, 1.0, 5.0, 0.0, 16.0, 14.0, 99.0],
        }
    )
    gauges = _scheduler_gauges(statsd, bucket=5.0)
    # executable: 3 at t=1 (two samples summed), 5 at t=3 → one bucket, mean 4
    assert gauges["executable tasks"] == ((0.0, 4.0),)
    assert gauges["open executor slots"] == ((0.0, 15.0),)
    assert "starving tasks" not in gauges  # no such gauge: no curve


def test_broker_outage_report_charts_the_scheduling_delay(tmp_path: Path) -> None:
    run = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURES / "journals" / "broker_outage", run)
    html = render_report(run, analyze(run))
    assert "Scheduling delay: queued → running" in html
    assert "not measured: no task try with a queued and a start time" not in html
