"""A short breakpoint search on the real stack, cross-checked against its step runs.

scenarios/capacity-search.yaml, shortened through the loader's overrides (the same
path a suite's overrides take): 90 s wall a sub-run at ×96 (2.4 simulated hours: two
hourly partitions), 45 s drain, one sub-run a step, min_runs 1, start and ceiling ×2
(one step: the search's growth and bisection are the unit tests'; here the real step
runner, the scaled sub-run and the cross-checks), budget 6 m. At ×96 the SLA's 2
simulated hours are 75 s of wall time, so the step may hold or break; either way it
is checked the same way. The search runs through the library with the real step
runner (:func:`dagstorm.harness.flow.run_scenario`); then the step's runs and
compliance in search.json are held against the step run's own result.json and its
journal's dag_run events, and the sub-run's scenario against the step's multiplier.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from dagstorm.analysis.outputs.history import read_history
from dagstorm.core.progress import Progress
from dagstorm.engine.leftovers import end_runs
from dagstorm.harness.capacity import run_capacity_search
from dagstorm.harness.flow import RunReport, run_scenario
from dagstorm.run.journal import read_journal
from dagstorm.scenarios.loader import LoadedScenario, load_scenario
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack
from dagstorm.workloads.dag_trigger import DagTrigger

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
DAG = "ad_logs_hourly"
SCENARIO = ROOT / "scenarios" / "capacity-search.yaml"
WALL_BOUND_S = 6 * 60
SHORT: dict[str, Any] = {
    "duration": "90s",
    "drain": "45s",
    "time_compression": 96,
    "capacity": {
        "search": {
            "start": 2,
            "growth": 2,
            "ceiling": 2,
            "min_runs": 1,
            "max_sub_runs": 1,
            "tolerance": "15%",
            "budget": "6m",
        },
        "verify": None,
    },
}


def last_dag_runs(run_dir: Path, dag_id: str) -> dict[str, dict[str, Any]]:
    """The last dag_run event of each run of ``dag_id`` in the step run's journal."""
    runs: dict[str, dict[str, Any]] = {}
    for event in read_journal(run_dir / "journal.jsonl"):
        if event.get("kind") == "dag_run" and event.get("dag_id") == dag_id:
            runs[str(event["run_id"])] = event
    return runs


def test_a_short_search_on_the_real_stack(stack_context: StackContext, tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIO, overrides=SHORT)
    assert loaded.scenario.capacity is not None
    runs_dir = tmp_path / "runs"

    def run_step(step: LoadedScenario) -> RunReport:
        return run_scenario(
            step,
            stack=stack_context.config,
            runs_dir=runs_dir,
            progress=Progress(quiet=True),
        )

    began = time.monotonic()
    done = run_capacity_search(
        loaded, run_step=run_step, runs_dir=runs_dir, history=tmp_path / "history.jsonl"
    )
    took = time.monotonic() - began
    assert took <= WALL_BOUND_S + 60, f"the search took {took:.0f} s"
    summary = done.summary
    assert summary.ended != "error", summary.ended_text
    assert len(summary.steps) == 1
    assert summary.steps[0].multiplier == 2
    assert summary.ended in ("ceiling", "first step broke", "not measured"), summary.ended_text
    document = orjson.loads((done.search_dir / "search.json").read_bytes())
    assert len(document["steps"]) == len(summary.steps)
    for row, written in zip(summary.steps, document["steps"], strict=True):
        assert len(row.run_dirs) == 1
        run_dir = Path(row.run_dirs[0])
        result = orjson.loads((run_dir / "result.json").read_bytes())
        (sla,) = [m for m in result["measures"]["sla"] if m["dag_id"] == "ad_logs_hourly"]
        # The step's counts are the step run's own, and the runs still going within their
        # deadline when its drain ended (the search ends them: misses of the step).
        going = [r for r in sla["excluded_runs"] if r["reason"] == "unfinished within deadline"]
        assert (row.met, row.counted) == (sla["met"], sla["met"] + sla["missed"] + len(going))
        assert (written["met"], written["counted"]) == (row.met, row.counted)
        if not going:  # the same runs: the same compliance
            assert written["compliance"] == sla["compliance"]
        if row.counted:
            assert written["compliance"] == round(row.met / row.counted, 6)
        # And the run's own result agrees with its journal: every counted run is there.
        journal_runs = last_dag_runs(run_dir, "ad_logs_hourly")
        assert row.counted <= len(journal_runs) + sla["missed"]  # + triggers that never ran
        succeeded = sum(1 for e in journal_runs.values() if e.get("state") == "success")
        assert row.met <= succeeded
        if row.counted:
            assert row.interval is not None
            assert row.interval.low <= row.met / row.counted <= row.interval.high
        else:
            assert row.verdict in ("not measured", "undecided")
        # The sub-run ran at the step's rate: its scenario.yaml has the scale multiplied.
        scenario = load_scenario(run_dir / "scenario.yaml", env={}, pipeline=False).scenario
        (workload,) = scenario.workloads
        assert getattr(workload, "scale", None) == pytest.approx(row.multiplier / 20000)
    props = (done.search_dir / "junit.xml").read_text(encoding="utf-8")
    assert "capacity.search.ended" in props
    (entry,) = read_history(tmp_path / "history.jsonl")
    assert entry.scenario == "capacity-search" and entry.status == summary.ended
    assert (done.search_dir / "capacity.html").is_file()


def test_runs_a_sub_run_left_active_are_ended_and_no_others(stack: Stack) -> None:
    """What the search does between sub-runs, on the real Airflow: only the named active runs.

    Two runs of ad_logs_hourly wait on a partition of 2001 that never lands (their
    sensor holds them running); one is named, one is not; a finished run is named too.
    """
    trigger = DagTrigger(stack)
    tag = uuid.uuid4().hex[:8]
    try:
        named, other = (
            trigger.trigger(DAG, {"partition_hour": "2001-01-01T00"}, run_id=f"it-{tag}-{n}")
            for n in ("named", "other")
        )
        assert named.ok and other.ok, (named.error, other.error)
        ended = end_runs(stack, DAG, {named.run_id or "", f"it-{tag}-gone"})
        assert ended == [named.run_id]
        assert _state(trigger, named.run_id) == "failed"
        assert _state(trigger, other.run_id) in ("queued", "running")
        assert end_runs(stack, DAG, {named.run_id or ""}) == []  # finished: left alone
    finally:
        for run in (f"it-{tag}-named", f"it-{tag}-other"):
            trigger.api("PATCH", f"/api/v2/dags/{DAG}/dagRuns/{run}", json={"state": "failed"})
        trigger.close()


def _state(trigger: DagTrigger, run_id: str | None) -> str:
    response = trigger.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}")
    response.raise_for_status()
    return str(response.json()["state"])
