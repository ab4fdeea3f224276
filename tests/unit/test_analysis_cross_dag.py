"""Cross-DAG waits on a hand-built run directory: sensor time and start after the upstream."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dagstorm.analysis.measures.cross_dag import CrossDagWait, cross_dag_waits
from dagstorm.analysis.outputs.result import analyze, result_document
from dagstorm.analysis.rundata.load import load_run
from dagstorm.analysis.rundata.pipeline import DagDependency
from dagstorm.reports.page import render_report
from dagstorm.run.rundir import RunDirectory

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
L1, L2 = -300.0, 150.0  # logical dates of the two scheduled intervals

PIPELINE = {
    "name": "estate",
    "dags": [
        {"id": "up", "start": {"kind": "schedule"}, "upstream": []},
        {"id": "report_a", "start": {"kind": "schedule"}, "upstream": ["up"]},
        {"pattern": "report_*", "start": {"kind": "schedule"}, "upstream": ["up"]},
        {"id": "features", "start": {"kind": "asset", "asset": "x"}, "upstream": ["up"]},
        {"id": "orphan", "start": {"kind": "asset", "asset": "y"}, "upstream": ["silent"]},
    ],
    "stages": {"wait": ["wait_for_*"]},
}


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


class Journal:
    """Events appended in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.add("run_start", 0, time_compression=1.0)

    def add(self, kind: str, t: float, **fields: Any) -> None:
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})

    def run(
        self, dag: str, run_id: str, *, queued: float, end: float | None, logical: float | None
    ) -> None:
        self.add(
            "dag_run",
            end or queued,
            dag_id=dag,
            run_id=run_id,
            state="success" if end is not None else "running",
            queued_at=iso(queued),
            start_date=iso(queued + 1),
            end_date=iso(end) if end is not None else None,
            logical_date=iso(logical) if logical is not None else None,
        )

    def sensor(self, dag: str, run_id: str, *, start: float, end: float, n: int = 1) -> None:
        self.add(
            "task_try",
            end,
            dag_id=dag,
            run_id=run_id,
            task_id="wait_for_up",
            map_index=-1,
            try_number=n,
            state="success",
            start_date=iso(start),
            end_date=iso(end),
        )


def _estate() -> Journal:
    j = Journal()
    j.run("up", "u0", queued=-300, end=-280, logical=L1 - 300)  # before the run: not counted …
    j.run("up", "u1", queued=-2, end=20, logical=L1)  # … but it may be waited on
    j.add("fault_applied", 100, fault_id="f1", fault="deploy v2", took_s=0)
    j.run("up", "u2", queued=150, end=190, logical=L2)  # slower: v2 is live
    j.add("fault_reverted", 200, fault_id="f1", fault="deploy v2", took_s=0)
    # Sensor DAGs: same logical dates as the upstream's runs.
    j.run("report_a", "a1", queued=0, end=40, logical=L1)
    j.sensor("report_a", "a1", start=1, end=22)
    j.run("report_a", "a2", queued=150, end=210, logical=L2)
    j.sensor("report_a", "a2", start=151, end=195)
    j.run("report_b", "b1", queued=0, end=40, logical=L1)
    j.sensor("report_b", "b1", start=1, end=5, n=1)  # a first try that timed out early …
    j.sensor("report_b", "b1", start=6, end=24, n=2)  # … the last try is the one counted
    # Asset-triggered: no logical date; paired with the upstream run started last before.
    j.run("features", "f0", queued=0.5, end=30, logical=None)  # u1 in flight: no wait after it
    j.run("orphan", "x1", queued=10, end=30, logical=None)  # its upstream has no run at all
    j.run("features", "f1", queued=25, end=60, logical=None)
    j.run("features", "f2", queued=195, end=230, logical=None)
    j.run("other", "o1", queued=0, end=10, logical=L1)  # not in the profile: no row
    j.run("report_a", "a0", queued=-300, end=-250, logical=L1 - 300)  # before the run
    j.add("run_end", 300, status="completed")
    return j


def _write(tmp_path: Path, journal: Journal) -> Path:
    run = RunDirectory(tmp_path / "run")
    run.path.mkdir()
    run.journal.write_text("".join(json.dumps(e) + "\n" for e in journal.events))
    run.pipeline.write_text(json.dumps(PIPELINE))
    return run.path


def _rows(tmp_path: Path) -> dict[str, CrossDagWait]:
    result = analyze(_write(tmp_path, _estate()))
    return {row.downstream: row for row in result.measures.cross_dag.rows}


def test_sensor_waits_pair_runs_by_logical_date(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    assert set(rows) == {"report_a", "report_*", "features", "orphan"}
    a = rows["report_a"]
    assert (a.upstream, a.dags, a.runs, a.paired) == ("up", 1, 2, 2)  # a0 is before the run
    assert a.sensor_wait.p50 == pytest.approx(21)
    assert a.sensor_wait.max == pytest.approx(44)
    # Each started when queued (+1 s), before the upstream's run ended: no wait after it.
    assert a.start_after_upstream.max == pytest.approx(0)
    # a2 was queued at 150, inside the fault [100, 200): its 44 s wait is the fault's.
    assert a.sensor_wait_in_faults.count == 1
    assert a.sensor_wait_in_faults.max == pytest.approx(44)
    b = rows["report_*"]
    assert (b.dags, b.runs, b.paired) == (1, 1, 1)
    assert b.sensor_wait.max == pytest.approx(18)  # the last try only


def test_asset_runs_pair_with_the_upstream_run_started_last(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    f = rows["features"]
    assert (f.runs, f.paired) == (3, 3)  # f0 pairs with u1, queued before the run started
    assert f.sensor_wait.count == 0  # no wait-stage task
    # f0 started before u1 ended: 0; f1: start 26 − u1's end 20; f2: 196 − u2's end 190.
    assert f.start_after_upstream.p50 == pytest.approx(6)
    assert f.start_after_upstream.max == pytest.approx(6)
    assert f.start_after_upstream.count == 3
    orphan = rows["orphan"]
    assert (orphan.upstream, orphan.runs, orphan.paired) == ("silent", 1, 0)
    assert orphan.start_after_upstream.p50 is None
    assert f.start_after_upstream_in_faults.count == 1  # f2, queued at 195 < 200


def test_result_json_and_the_report_carry_the_table(tmp_path: Path) -> None:
    run_dir = _write(tmp_path, _estate())
    result = analyze(run_dir)
    document = result_document(result)
    rows = document["measures"]["cross_dag"]["rows"]
    assert {r["downstream"] for r in rows} == {"report_a", "report_*", "features", "orphan"}
    assert rows[0]["sensor_wait"]["p95"] is not None
    html = render_report(run_dir, result)
    assert "Cross-DAG waits" in html and "report_*" in html


def test_no_declared_upstream_means_no_rows(tmp_path: Path) -> None:
    data = load_run(_write(tmp_path, _estate()))
    plain = [DagDependency("up", False, ()), DagDependency("report_*", True, ())]
    waits = cross_dag_waits(data.dag_runs, data.task_tries, plain, wait_patterns=("wait_for_*",))
    assert waits.rows == ()
