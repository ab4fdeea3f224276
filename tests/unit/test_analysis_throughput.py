"""Scheduler throughput per wall minute, delays, and StatsD figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.scheduler.scheduler_metrics import scheduler_metrics
from dagstorm.analysis.measures.scheduler.throughput import scheduler_throughput
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import Phase, RunData

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def build(
    tries: list[tuple[str, str, float | None, float | None, float | None]],
    runs: Sequence[tuple[str, float, float]] = (),
    statsd: Sequence[dict[str, Any]] = (),
    end_t: float = 250,
) -> RunData:
    """tries: (task_id, state, queued, start, end); runs: (run_id, queued, start)."""
    events: list[dict[str, Any]] = [
        {"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": 1}
    ]

    def add(kind: str, **fields: Any) -> None:
        events.append({"seq": len(events) + 1, "t": 1, "wall": ORIGIN + 1, "kind": kind, **fields})

    for task, state, queued, start, end in tries:
        add(
            "task_try",
            dag_id="d",
            run_id="r1",
            task_id=task,
            map_index=-1,
            try_number=1,
            state=state,
            queued_when=iso(queued),
            start_date=iso(start),
            end_date=iso(end),
        )
    for run_id, queued, start in runs:
        add(
            "dag_run",
            dag_id="d",
            run_id=run_id,
            state="running",
            queued_at=iso(queued),
            start_date=iso(start),
        )
    for sample in statsd:
        add("statsd", **sample)
    events.append({"seq": len(events) + 1, "t": end_t, "wall": ORIGIN + end_t, "kind": "run_end"})
    return build_run_data(events, run_dir=Path("run"))


#: The run ends at 250 s: minutes 0-3 complete, minute 4 partial; minute 2 idle.
TRIES: list[tuple[str, str, float | None, float | None, float | None]] = [
    ("a", "success", 4, 5, 20),
    ("b", "success", 8, 10, 25),
    ("c", "failed", 14, 15, 65),
    ("d", "success", 69, 70, 90),
    ("e", "up_for_retry", 79, 80, 100),
    ("f", "running", 185, 200, None),  # queued in minute 3, still running at the end
    ("skipped", "skipped", None, 30, 30),  # never ran
    ("early", "success", -7, -5, 2),  # started before the run: finished in minute 0
]


def test_started_and_finished_per_minute() -> None:
    data = build(TRIES)
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=data.end_t)
    assert [x.started for x in m.minutes] == [3, 2, 0, 1, 0]
    assert [x.finished for x in m.minutes] == [3, 3, 0, 0, 0]
    assert [x.busy for x in m.minutes] == [True, True, False, True, True]
    assert [x.complete for x in m.minutes] == [True, True, True, True, False]
    assert m.busy_minutes == 3  # busy and complete: 0, 1, 3
    assert m.median_finished_per_min == 3.0  # of 3, 3, 0
    assert m.median_started_per_min == 2.0  # of 3, 2, 1
    assert m.peak_finished_per_min == 3
    # The totals are the minutes' sums: the early try is counted apart, not in them.
    assert (m.tries_started, m.tries_finished, m.started_before_run) == (6, 6, 1)


def test_scheduling_delays() -> None:
    runs = [("r1", 0, 0.5), ("r2", 10, 12), ("r3", 20, 24)]
    data = build(TRIES, runs)
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=data.end_t)
    # queued → start per try started in the run: 1, 2, 1, 1, 1, 15 (nearest rank)
    assert m.task_queue_delay_s.count == 6
    assert m.task_queue_delay_s.p50 == pytest.approx(1)
    assert m.task_queue_delay_s.p95 == pytest.approx(15)
    assert m.task_queue_delay_s.max == pytest.approx(15)
    assert m.run_start_delay_s.p50 == pytest.approx(2) and m.run_start_delay_s.max == 4
    # r1 started at 0.5; its first try was queued at -7.
    assert m.run_to_first_task_queued_s.count == 1
    assert m.run_to_first_task_queued_s.p50 == pytest.approx(-7.5)


def test_per_phase_medians() -> None:
    data = build(TRIES)
    phases = [Phase("steady", 0, 120), Phase("chaos", 120, 250)]
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=data.end_t, phases=phases)
    steady, chaos = m.per_phase
    assert (steady.busy_minutes, steady.median_finished_per_min) == (2, 3.0)
    assert (chaos.busy_minutes, chaos.median_finished_per_min) == (1, 0.0)
    assert m.minutes[3].phase == "chaos"


def test_no_tries_means_no_median() -> None:
    data = build([])
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=data.end_t)
    assert (m.tries_started, m.busy_minutes, m.median_finished_per_min) == (0, 0, None)
    assert m.task_queue_delay_s.count == 0 and m.task_queue_delay_s.p95 is None


def test_statsd_figures() -> None:
    samples = [
        {"metric": "scheduler.tasks.executable", "type": "gauge", "value": 3},
        {"metric": "scheduler.tasks.executable", "type": "gauge", "value": 5},
        {"metric": "scheduler.tasks.starving", "type": "gauge", "value": 0},
        {"metric": "executor.open_slots.LocalExecutor", "type": "gauge", "value": 8},
        {"metric": "executor.open_slots.LocalExecutor", "type": "gauge", "value": 2},
        {"metric": "ti_failures", "type": "counter", "value": 2},
        {"metric": "ti_failures", "type": "counter", "value": 1},
        {
            "metric": "scheduler.scheduler_loop_duration",
            "type": "timer",
            "count": 10,
            "p50_ms": 20,
            "p95_ms": 50,
            "max_ms": 100,
        },
        {
            "metric": "scheduler.scheduler_loop_duration",
            "type": "timer",
            "count": 5,
            "p50_ms": 40,
            "p95_ms": 90,
            "max_ms": 200,
        },
    ]
    m = scheduler_metrics(build([], statsd=samples).statsd)
    assert m.measured
    assert (m.executable_max, m.executable_mean) == (5, 4)
    assert (m.starving_max, m.open_slots_min, m.open_slots_mean) == (0, 2, 5)
    assert (m.loop_duration_p50_ms, m.loop_duration_max_ms) == (30, 200)
    by_name = {x.metric: x for x in m.metrics}
    assert by_name["ti_failures"].total == 3
    loop = by_name["scheduler.scheduler_loop_duration"]
    assert (loop.intervals, loop.count, loop.p95_ms) == (2, 15, 90)


def test_no_statsd() -> None:
    m = scheduler_metrics(build([]).statsd)
    assert not m.measured
    assert (m.executable_max, m.loop_duration_p50_ms, m.metrics) == (None, None, ())


def test_tries_after_the_end_of_observation_are_not_counted() -> None:
    """A last sample may see a try that started after the run's end: it is not this run's."""
    late = [*TRIES, ("late", "success", 240, 248, 249), ("later", "running", 251, 252, None)]
    data = build(late, end_t=250)
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=247)
    assert [x.started for x in m.minutes] == [3, 2, 0, 1, 0]  # 248 and 252 > 247
    # The totals are the minutes' sums (the early try, before the run, is apart).
    assert (m.tries_started, m.tries_finished) == (6, 6)
    assert m.task_queue_delay_s.count == 6  # the late try's delay is left out too
    m = scheduler_throughput(data.task_tries, data.dag_runs, end_t=250)
    assert [x.started for x in m.minutes] == [3, 2, 0, 1, 1]  # 248 counted, 252 not
    assert (m.tries_started, m.tries_finished) == (7, 7)
