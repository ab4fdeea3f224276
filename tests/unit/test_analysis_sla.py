"""SLA compliance on hand-built journals: deadlines in simulated time, runs at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.sla import sla_compliance
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.model import RunData

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def journal(compression: float, runs: list[dict[str, Any]], end_t: float = 400) -> RunData:
    events: list[dict[str, Any]] = [
        {"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": compression}
    ]
    for run in runs:
        events.append(
            {
                "seq": len(events) + 1,
                "t": run.get("seen", 1),
                "wall": ORIGIN + 1,
                "kind": "dag_run",
                "dag_id": run.get("dag", "hourly"),
                "run_id": run["id"],
                "state": run["state"],
                "queued_at": iso(run["queued"]) if run.get("queued") is not None else None,
                "start_date": iso(run["queued"] + 1) if run.get("queued") is not None else None,
                "end_date": iso(run["end"]) if run.get("end") is not None else None,
                "logical_date": iso(run["logical"]) if run.get("logical") is not None else None,
            }
        )
    events.append({"seq": len(events) + 1, "t": end_t, "wall": ORIGIN + end_t, "kind": "run_end"})
    return build_run_data(events, run_dir=Path("run"))


#: Compression 24, within 2 h sim = 300 s wall; the run ends at t = 400.
RUNS = [
    {"id": "inside", "state": "success", "queued": 0, "end": 299.9, "logical": -100},
    {"id": "on_the_deadline", "state": "success", "queued": 10, "end": 310},
    {"id": "outside", "state": "success", "queued": 20, "end": 320.5},
    {"id": "failed", "state": "failed", "queued": 30, "end": 100},
    {"id": "running_past", "state": "running", "queued": 40},
    {"id": "running_within", "state": "running", "queued": 200},
    {"id": "other_dag", "state": "failed", "queued": 0, "end": 1, "dag": "other"},
]


def test_runs_just_inside_and_outside_the_deadline_with_compression() -> None:
    data = journal(24.0, RUNS)
    m = sla_compliance(data.dag_runs, dag_id="hourly", within_s=7200, compression=24, end_t=400)
    assert (m.runs, m.met, m.missed, m.excluded) == (6, 2, 3, 1)
    assert m.compliance == pytest.approx(2 / 5)
    assert m.within_wall_s == pytest.approx(300)
    by_id = {r.run_id: r for r in m.misses}
    assert [r.run_id for r in m.misses] == ["outside", "failed", "running_past"]
    outside = by_id["outside"]
    assert outside.reason == "late"
    assert outside.elapsed_wall_s == pytest.approx(300.5)
    assert outside.elapsed_sim_s == pytest.approx(7212)
    assert outside.over_by_sim_s == pytest.approx(12)
    assert outside.over_by_wall_s == pytest.approx(0.5)
    assert by_id["failed"].reason == "failed"
    assert by_id["failed"].over_by_sim_s is None  # failed before its deadline
    past = by_id["running_past"]
    assert past.reason == "unfinished past deadline"
    assert past.over_by_sim_s == pytest.approx((400 - 40) * 24 - 7200)
    assert past.end_date is None
    (within,) = m.excluded_runs
    assert (within.run_id, within.reason) == ("running_within", "unfinished within deadline")


def test_same_wall_timings_without_compression_meet_a_wall_deadline() -> None:
    data = journal(1.0, RUNS)
    m = sla_compliance(data.dag_runs, dag_id="hourly", within_s=300, compression=1, end_t=400)
    assert (m.met, m.missed, m.excluded) == (2, 3, 1)
    outside = next(r for r in m.misses if r.run_id == "outside")
    assert outside.over_by_sim_s == pytest.approx(0.5)
    assert outside.over_by_wall_s == pytest.approx(0.5)


def test_compression_changes_the_verdict_of_the_same_run() -> None:
    runs = [{"id": "r", "state": "success", "queued": 0, "end": 100}]
    # 100 s wall: 100 s sim at ×1, 40 min sim at ×24; the deadline is 30 min sim.
    assert journal(1.0, runs).dag_runs.shape[0] == 1
    slow = sla_compliance(
        journal(24.0, runs).dag_runs, dag_id="hourly", within_s=1800, compression=24, end_t=400
    )
    fast = sla_compliance(
        journal(1.0, runs).dag_runs, dag_id="hourly", within_s=1800, compression=1, end_t=400
    )
    assert (slow.met, slow.missed) == (0, 1)
    assert slow.misses[0].over_by_sim_s == pytest.approx(600)
    assert (fast.met, fast.missed) == (1, 0)


def test_measure_from_logical_date() -> None:
    data = journal(24.0, RUNS[:1])
    m = sla_compliance(
        data.dag_runs,
        dag_id="hourly",
        within_s=7200,
        compression=24,
        end_t=400,
        measure_from="logical_date",
    )
    # logical date 100 s before queued: 399.9 s wall elapsed > 300.
    assert (m.met, m.missed) == (0, 1)
    assert m.misses[0].elapsed_wall_s == pytest.approx(399.9)


def test_a_run_without_its_reference_time_is_excluded() -> None:
    data = journal(1.0, [{"id": "manual", "state": "success", "queued": 0, "end": 5}])
    m = sla_compliance(
        data.dag_runs,
        dag_id="hourly",
        within_s=60,
        compression=1,
        end_t=400,
        measure_from="logical_date",
    )
    assert (m.met, m.missed, m.excluded, m.compliance) == (0, 0, 1, None)
    assert m.excluded_runs[0].reason == "no reference"


def test_the_last_state_of_a_run_counts() -> None:
    runs = [
        {"id": "r", "state": "failed", "queued": 0, "end": 50, "seen": 50},
        {"id": "r", "state": "success", "queued": 0, "end": 90, "seen": 90},  # cleared, rerun
    ]
    m = sla_compliance(
        journal(1.0, runs).dag_runs, dag_id="hourly", within_s=100, compression=1, end_t=400
    )
    assert (m.runs, m.met, m.missed) == (1, 1, 0)


def test_no_runs_of_the_dag() -> None:
    m = sla_compliance(
        journal(1.0, []).dag_runs, dag_id="hourly", within_s=100, compression=1, end_t=400
    )
    assert (m.runs, m.compliance, m.misses) == (0, None, ())
