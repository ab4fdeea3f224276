"""Honest measures for any DAG: trigger errors, tries that never started, throughput per fault.

Each test builds a journal by hand, analyses it the way ``dagstorm analyze`` does, and
checks the figures against what the events say.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.measures.scheduler.scheduler_metrics import scheduler_metrics
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunData
from dagstorm.analysis.verdict.judgement import judge
from dagstorm.workloads.dag_trigger import run_id_prefix

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class Journal:
    """Events of one run, written in order."""

    def __init__(self, slos: list[dict[str, Any]]) -> None:
        self.events: list[dict[str, Any]] = [
            {"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": 2}
            | {"slos": slos}
        ]

    def add(self, kind: str, t: float = 1.0, **fields: Any) -> None:
        self.events.append(
            {"seq": len(self.events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields}
        )

    def run(self, run_id: str, queued: float, end: float | None, state: str = "success") -> None:
        self.add(
            "dag_run",
            t=end or queued,
            dag_id="d",
            run_id=run_id,
            state=state,
            queued_at=iso(queued),
            start_date=iso(queued),
            end_date=iso(end),
        )

    def try_(self, n: int, state: str, start: float | None, end: float | None) -> None:
        self.add(
            "task_try",
            t=end or 1.0,
            dag_id="d",
            run_id="r",
            task_id=f"t{n}",
            map_index=-1,
            try_number=1,
            state=state,
            queued_when=iso((start or end or 1.0) - 0.5),
            start_date=iso(start),
            end_date=iso(end),
        )

    def data(self, end_t: float) -> RunData:
        self.add("run_end", t=end_t, status="completed")
        return build_run_data(self.events, run_dir=Path("run"))


def test_a_trigger_error_whose_run_appeared_is_a_run_and_one_without_is_a_miss() -> None:
    journal = Journal(
        [{"type": "sla", "dag": "d", "within": 60}, {"type": "trigger_errors", "max": 0}]
    )
    journal.add("dag_triggered", t=1, dag_id="d", run_id="a", ok=True, status=200)
    journal.add("dag_triggered", t=2, dag_id="d", run_id="b", ok=False, error="ReadTimeout")
    journal.add("dag_triggered", t=3, dag_id="d", run_id="c", ok=False, error="ReadTimeout")
    journal.add("dag_triggered", t=4, dag_id="d", run_id=None, ok=False, status=503)
    journal.run("a", 1, 10)
    journal.run("b", 2, 12)  # Airflow created it although the POST timed out
    data = journal.data(100)
    assert data.dag_runs["triggered"].tolist() == [True, True]
    measures = compute_measures(data)
    errors = measures.trigger_errors
    assert errors is not None
    assert (errors.triggers, errors.errors, errors.created_anyway) == (4, 3, 1)
    assert (errors.never_created, errors.unknown) == (1, 1)
    assert errors.by_error == {"HTTP 503": 1, "ReadTimeout": 2}
    (sla,) = measures.sla
    # a and b met; c never appeared: missed; the 503 named no run id: excluded.
    assert (sla.runs, sla.met, sla.missed, sla.excluded) == (4, 2, 1, 1)
    assert [(m.run_id, m.reason, m.state) for m in sla.misses] == [
        ("c", "trigger failed", "not created")
    ]
    assert sla.excluded_runs[0].reason == "trigger failed, run unknown"
    verdict = judge(data, measures)
    sla_v, triggers_v = verdict.slos
    assert sla_v.value == pytest.approx(2 / 3) and not sla_v.passed
    assert "1 missed (1 trigger failed)" in sla_v.detail
    assert "1 excluded (1 trigger failed, run unknown)" in sla_v.detail
    assert (triggers_v.name, triggers_v.value, triggers_v.passed) == ("trigger_errors", 3, False)
    assert triggers_v.detail == (
        "3 of 4 triggers errored (1 HTTP 503, 2 ReadTimeout); 1 created the run anyway,"
        " 1 never did, 1 named no run id"
    )


def test_trigger_errors_without_a_trigger_are_not_measured() -> None:
    data = Journal([{"type": "trigger_errors", "max": 0}]).data(60)
    (verdict,) = judge(data, compute_measures(data)).slos
    assert not verdict.measured and not verdict.passed
    assert verdict.detail.startswith("not measured: no API trigger in the journal")


def test_a_try_that_never_started_is_not_finished_work() -> None:
    journal = Journal([{"type": "tries_never_started", "max": 0}])
    journal.try_(1, "success", 10, 20)
    journal.try_(2, "failed", 30, 40)
    journal.try_(3, "failed", None, 70)  # failed by a restarted scheduler, never ran
    journal.try_(4, "up_for_retry", None, 75)
    journal.try_(5, "upstream_failed", None, 80)  # never meant to run
    data = journal.data(130)
    measures = compute_measures(data)
    t = measures.throughput
    assert (t.tries_started, t.tries_finished) == (2, 2)
    assert [m.finished for m in t.minutes] == [2, 0, 0]
    lost = measures.tries_never_started
    assert lost is not None and lost.count == 2
    assert lost.by_state == {"failed": 1, "up_for_retry": 1}
    assert lost.per_minute == ({"minute": 1, "count": 2},)
    assert lost.tries == ("d/r/t3#1", "d/r/t4#1")
    (verdict,) = judge(data, measures).slos
    assert (verdict.value, verdict.passed) == (2, False)
    assert verdict.value_text == "2 tries never started"
    assert "2 ended without a start (1 failed, 1 up_for_retry) in minute 1 (2)" in verdict.detail


def test_throughput_per_fault_window_baseline_worst_minute_and_recovery() -> None:
    journal = Journal([])
    n = 0
    # 10 finished a minute in minutes 0-2, 2 in minute 3 (the fault), 10 again from 4 on.
    for minute, count in ((0, 10), (1, 10), (2, 10), (3, 2), (4, 10), (5, 10)):
        for i in range(count):
            n += 1
            end = minute * 60 + 3 + i * (54 / count)
            journal.try_(n, "success", end - 2, end)
    journal.add("fault_applied", t=185, fault_id="f1", fault="scheduler kill", took_s=5.0)
    journal.add("fault_reverted", t=230, fault_id="f1", fault="scheduler kill")
    journal.run("r", 1, 300)
    data = journal.data(360)
    (fault,) = compute_measures(data).recovery[0].faults
    assert (fault.start_t, fault.end_t) == (180, 230)
    assert fault.throughput_baseline_minutes == 3
    assert fault.throughput_baseline_per_min == 10
    assert (fault.worst_minute, fault.worst_minute_finished) == (3, 2)
    assert fault.throughput_drop == pytest.approx(0.8)
    # After the revert at 230 s, the 60 s up to a finish first hold 9 (90% of 10) at the
    # 9th finish of minute 4: 240 + 3 + 8 x 5.4 = 286.2 s (minute 3's finishes, at 183 s
    # and 210 s, are more than 60 s before it).
    assert fault.throughput_recovered
    assert fault.throughput_recovery_wall_s == pytest.approx(286.2 - 230)
    assert fault.throughput_recovery_sim_s == pytest.approx((286.2 - 230) * 2)


def test_a_fault_in_the_first_minute_has_no_throughput_baseline() -> None:
    journal = Journal([])
    journal.try_(1, "success", 1, 2)
    journal.add("fault_applied", t=30, fault_id="f1", fault="x", took_s=0.0)
    journal.add("fault_reverted", t=40, fault_id="f1", fault="x")
    (fault,) = compute_measures(journal.data(120)).recovery[0].faults
    assert fault.throughput_baseline_per_min is None and fault.throughput_recovered is None


def test_constant_gauges_are_named_and_running_tasks_come_from_what_changed() -> None:
    journal = Journal([])
    for t, running in ((10, 0), (20, 5), (30, 8)):
        for metric, value in (
            ("executor.open_slots", 8),
            ("executor.running_tasks", 0),
            ("pool.running_slots.default_pool", running),
        ):
            journal.add("statsd", t=t, metric=metric, type="gauge", value=value)
    metrics = scheduler_metrics(journal.data(60).statsd)
    assert metrics.constant_gauges == {"executor.open_slots": 8, "executor.running_tasks": 0}
    assert metrics.running_tasks_metric == "pool.running_slots.default_pool"
    assert metrics.running_tasks_max == 8
    assert metrics.running_tasks_mean == pytest.approx(13 / 3)
    by_name = {m.metric: m.constant for m in metrics.metrics}
    assert by_name["pool.running_slots.default_pool"] is False


def test_a_trigger_storm_asks_for_run_ids_airflow_accepts() -> None:
    prefix = run_id_prefix("storm-1")
    assert re.fullmatch(r"dagstorm__\d{8}T\d{6}_[0-9a-f]{6}__storm-1", prefix)
    assert re.fullmatch(r"^[A-Za-z0-9_.~:+-]+$", f"{prefix}_12")  # Airflow's run id pattern
    assert run_id_prefix("storm-1") != prefix  # two storms never ask for the same ids


def test_a_try_number_skipped_among_the_tries_seen_is_a_try_that_never_ran() -> None:
    """Airflow keeps no row of a try failed while queued; the probe may never see it."""
    journal = Journal([{"type": "tries_never_started", "max": 0}])
    fields = {"dag_id": "d", "run_id": "r", "task_id": "fibo", "map_index": -1}
    tries = [  # (try, state, queued, start, end): try 2 was never seen, nor was 5
        (1, "up_for_retry", 30, None, 31),
        (3, "up_for_retry", 62, None, 63),
        (4, "up_for_retry", 70, 71, 72),  # ran and failed: Airflow has its row
        (6, "success", 95, 96, 97),
    ]
    for number, state, queued, start, end in tries:
        journal.add(
            "task_try",
            t=end,
            **fields,
            try_number=number,
            state=state,
            queued_when=iso(queued),
            start_date=iso(start),
            end_date=iso(end),
        )
    journal.add("task_try", t=5, **{**fields, "task_id": "other"}, try_number=0, state="none")
    data = journal.data(130)
    lost = compute_measures(data).tries_never_started
    assert lost is not None
    assert (lost.count, lost.unrecorded) == (4, 2)
    assert lost.by_state == {"unrecorded": 2, "up_for_retry": 2}
    # Each unrecorded try at the moment the next try seen was queued: 62 s and 95 s.
    assert lost.tries == ("d/r/fibo#1", "d/r/fibo#2", "d/r/fibo#3", "d/r/fibo#5")
    assert lost.per_minute == ({"minute": 0, "count": 1}, {"minute": 1, "count": 3})
    (verdict,) = judge(data, compute_measures(data)).slos
    assert verdict.value == 4 and "2 unrecorded" in verdict.detail
