"""Retry recovery per fault window and alert latency, on hand-built journals."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.alerts import alert_latency, match_alerts
from dagstorm.analysis.measures.faults.fault_windows import fault_windows
from dagstorm.analysis.measures.faults.recovery import RetryRecovery, retry_recovery
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunData

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
COMPRESSION = 10.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class Journal:
    """A minimal journal: events appended in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.add("run_start", 0, time_compression=COMPRESSION)

    def add(self, kind: str, t: float, **fields: Any) -> None:
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    def run(self, run_id: str, state: str, end: float | None, dag: str = "d") -> None:
        self.add(
            "dag_run",
            end or 0,
            dag_id=dag,
            run_id=run_id,
            state=state,
            queued_at=iso(0),
            start_date=iso(1),
            end_date=iso(end) if end is not None else None,
        )

    def try_(
        self, run_id: str, task: str, n: int, state: str, *, start: float, end: float | None
    ) -> None:
        self.add(
            "task_try",
            end or start,
            dag_id="d",
            run_id=run_id,
            task_id=task,
            map_index=-1,
            try_number=n,
            state=state,
            queued_when=iso(start - 1),
            start_date=iso(start),
            end_date=iso(end) if end is not None else None,
        )

    def alert(self, run_id: str, task: str, n: int, received: float) -> None:
        self.add(
            "alert",
            received,
            alert_kind="task_retry",
            dag_id="d",
            task_id=task,
            run_id=run_id,
            try_number=n,
            received_at=ORIGIN + received,
        )

    def data(self, end_t: float = 300) -> RunData:
        self.add("run_end", end_t, status="completed")
        return build_run_data(self.events, run_dir=Path("run"))


def recovery_of(data: RunData, dag_id: str | None = None) -> RetryRecovery:
    return retry_recovery(
        fault_windows(data.faults, data.end_t),
        dag_runs=data.dag_runs,
        task_tries=data.task_tries,
        matched_alerts=match_alerts(data.task_tries, data.alerts),
        alerts=data.alerts,
        compression=data.compression,
        end_t=data.end_t,
        dag_id=dag_id,
    )


def outage() -> Journal:
    """A fault over [96, 160], retries during it, success after it."""
    j = Journal()
    j.run("before", "success", 50)
    j.add("fault_intent", 95, fault_id="f1", fault="broker kill")
    j.add("fault_applied", 100, fault_id="f1", fault="broker kill", took_s=4)
    j.try_("r1", "agg", 1, "up_for_retry", start=110, end=112)
    j.alert("r1", "agg", 1, 113.5)
    j.try_("r1", "agg", 2, "up_for_retry", start=130, end=131)
    j.alert("r1", "agg", 2, 134)
    j.try_("r0", "load", 1, "failed", start=140, end=149)  # no alert for this one
    j.run("r0", "failed", 150)
    j.add("fault_reverted", 160, fault_id="f1", fault="broker kill", took_s=1)
    j.try_("r1", "agg", 3, "success", start=170, end=175)
    j.run("r1", "success", 190)
    j.try_("r2", "agg", 2, "success", start=200, end=210)  # a retry after the recovery: not counted
    j.run("r2", "success", 215)
    return j


def test_fault_followed_by_retries_then_success() -> None:
    m = recovery_of(outage().data())
    (f,) = m.faults
    assert (f.start_t, f.end_t, f.reverted) == (96, 160, True)
    assert f.recovered
    assert f.first_success_run == "d/r1"
    assert f.recovery_wall_s == pytest.approx(30)
    assert f.recovery_sim_s == pytest.approx(300)
    assert f.recovery_from_start_wall_s == pytest.approx(94)
    assert f.recovery_from_start_sim_s == pytest.approx(940)
    assert f.first_task_success == "d/r1/agg#3"
    assert f.task_recovery_wall_s == pytest.approx(15)
    assert f.task_recovery_sim_s == pytest.approx(150)
    assert (f.retries, f.runs_retried) == (2, 1)
    assert f.failed_runs == ("d/r0",)
    assert (f.alerts.failures, f.alerts.alerted) == (3, 2)
    assert f.alerts.latency_wall_s.p50 == pytest.approx(1.5)
    assert f.alerts.latency_wall_s.p95 == pytest.approx(3.0)
    assert [u.task_id for u in f.alerts.unalerted] == ["load"]
    assert (m.recovered, m.unrecovered) == (1, 0)
    assert m.p95_sim_s == pytest.approx(300)
    assert m.max_sim_s == pytest.approx(300)


def test_a_fault_never_recovered_is_infinite_and_reported() -> None:
    j = outage()
    j.add("fault_applied", 220, fault_id="f2", fault="network partition", took_s=0)
    j.try_("r3", "agg", 1, "up_for_retry", start=225, end=230)
    j.run("r3", "failed", 240)
    j.add("fault_reverted", 250, fault_id="f2", fault="network partition", took_s=0)
    m = recovery_of(j.data())
    first, second = m.faults
    assert first.horizon_t == 220  # the first fault's failed runs stop where the next begins
    assert first.failed_runs == ("d/r0",)
    assert not second.recovered
    assert math.isinf(second.recovery_sim_s) and math.isinf(second.task_recovery_wall_s)
    assert second.first_success_run is None
    assert second.failed_runs == ("d/r3",)
    assert (m.recovered, m.unrecovered) == (1, 1)
    assert m.max_sim_s is not None and math.isinf(m.max_sim_s)
    assert m.p95_sim_s is not None and math.isinf(m.p95_sim_s)  # 2 faults: p95 is the max


def test_a_fault_not_reverted_in_the_journal_runs_to_the_end() -> None:
    j = Journal()
    j.add("fault_applied", 100, fault_id="f1", fault="scheduler kill", took_s=1)
    j.run("r", "success", 120)
    data = j.data(end_t=200)
    windows = fault_windows(data.faults, data.end_t)
    (window,) = windows.windows
    assert (window.start_t, window.end_t, window.reverted) == (99, 200, False)
    assert not recovery_of(data).faults[0].recovered


def test_a_fault_that_could_not_be_applied_has_no_window() -> None:
    j = Journal()
    j.add("fault_intent", 10, fault_id="f1", fault="broker kill")
    j.add("fault_error", 11, fault_id="f1", fault="broker kill", error="no such process")
    data = j.data()
    m = recovery_of(data)
    assert m.faults == ()
    assert (m.p95_sim_s, m.max_sim_s) == (None, None)
    (error,) = m.fault_errors
    assert (error.fault_id, error.error, error.applied) == ("f1", "no such process", False)


def test_recovery_for_one_dag() -> None:
    j = outage()
    j.run("other", "success", 165, dag="other_dag")
    data = j.data()
    assert recovery_of(data).faults[0].first_success_run == "other_dag/other"
    assert recovery_of(data, "d").faults[0].first_success_run == "d/r1"
    assert recovery_of(data, "missing").faults[0].recovered is False


def test_alert_latency_over_the_whole_run() -> None:
    data = outage().data()
    matched = match_alerts(data.task_tries, data.alerts)
    m = alert_latency(matched, data.alerts)
    assert (m.failures, m.alerted) == (3, 2)
    assert m.latency_wall_s.count == 2
    assert m.latency_wall_s.max == pytest.approx(3.0)
    assert m.alerts_by_kind == {"task_retry": 2}


def test_an_alert_sent_before_airflow_stamps_the_end_counts_as_zero_latency() -> None:
    j = Journal()
    j.try_("r", "t", 1, "failed", start=10, end=20)
    j.alert("r", "t", 1, 19.8)
    data = j.data()
    m = alert_latency(match_alerts(data.task_tries, data.alerts), data.alerts)
    assert m.latency_wall_s.p50 == 0.0
