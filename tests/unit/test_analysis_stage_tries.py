"""Per fault window, the stage of the pipeline its failed and retried tries belonged to:
in the measures, the story and the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.measures.faults.stage_tries import StageTries, stage_tries, try_stage
from dagstorm.analysis.outputs.story import failed_by_stage, run_story, stage_counts_text
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.rundata.pipeline import PipelineInfo
from dagstorm.analysis.verdict.judgement import judge
from dagstorm.reports.tables import _stages_text

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()
STAGES = {"wait": ["wait_*"], "transform": ["build_*"], "load": ["load_*"], "check": ["check"]}


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def test_a_tries_stage() -> None:
    assert try_stage("load_orders", True, STAGES) == "load"
    assert try_stage("load_orders", False, STAGES) == "queueing"  # failed before it ran
    assert try_stage("notify", True, STAGES) == "unmapped"
    assert try_stage("wait_x", True, {}) == "unmapped"


def test_stages_in_pipeline_order_and_only_those_with_tries() -> None:
    failed = pd.DataFrame(
        {
            "task_id": ["notify", "load_a", "load_b", "build_x"],
            "start_date_t": [5.0, 6.0, None, 7.0],
        }
    )
    retried = pd.DataFrame({"task_id": ["load_a"], "start_date_t": [9.0]})
    assert stage_tries(failed, retried, STAGES) == (
        StageTries("queueing", 1, 0),
        StageTries("transform", 1, 0),
        StageTries("load", 1, 1),
        StageTries("unmapped", 1, 0),
    )


class Journal:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = [
            {"seq": 1, "t": 0, "wall": ORIGIN, "kind": "run_start", "time_compression": 2}
        ]

    def add(self, kind: str, t: float, **fields: Any) -> None:
        self.events.append(
            {"seq": len(self.events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields}
        )

    def try_(
        self,
        task: str,
        n: int,
        state: str,
        times: tuple[float | None, float | None],
        run: str = "r",
    ) -> None:
        start, end = times
        self.add(
            "task_try",
            t=end or start or 1.0,
            dag_id="d",
            run_id=run,
            task_id=task,
            map_index=-1,
            try_number=n,
            state=state,
            queued_when=iso((start or end or 1.0) - 0.5),
            start_date=iso(start),
            end_date=iso(end),
        )


def test_a_fault_windows_failed_and_retried_tries_by_stage() -> None:
    journal = Journal()
    journal.try_("wait_x", 1, "success", (10, 20))
    journal.try_("load_a", 1, "failed", (30, 40))  # before the fault: not its failure
    journal.add("fault_applied", t=100, fault_id="f1", fault="db down", took_s=0.0)
    journal.try_("load_a", 1, "up_for_retry", (110, 120), run="r2")
    journal.try_("load_a", 2, "success", (150, 160), run="r2")  # the retry, in load
    journal.try_("build_x", 1, "failed", (None, 125), run="r3")  # never started: queueing
    journal.try_("notify", 1, "failed", (130, 135), run="r4")  # not in the stage map
    journal.add("fault_reverted", t=140, fault_id="f1", fault="db down")
    journal.add(
        "dag_run",
        t=170,
        dag_id="d",
        run_id="r2",
        state="success",
        queued_at=iso(105),
        start_date=iso(105),
        end_date=iso(170),
    )
    journal.add("run_end", t=300, status="completed")
    data = build_run_data(journal.events, run_dir=Path("run"))
    data = replace(data, pipeline=PipelineInfo("mine", {k: tuple(v) for k, v in STAGES.items()}))
    measures = compute_measures(data)
    (fault,) = measures.recovery[0].faults
    assert fault.stages == (
        StageTries("queueing", 1, 0),
        StageTries("load", 1, 1),
        StageTries("unmapped", 1, 0),
    )
    assert fault.retries == 1
    assert failed_by_stage((fault,)) == {"queueing": 1, "load": 1, "unmapped": 1}
    story = run_story(measures, judge(data, measures), status="completed")
    assert "1 run retried (failed tries: queueing 1, load 1, unmapped 1)" in story
    assert _stages_text(fault) == "queueing 1 / 0; load 1 / 1; unmapped 1 / 0"


def test_the_story_ranks_stages_by_count() -> None:
    assert stage_counts_text({"queueing": 1, "load": 4}) == "load 4, queueing 1"


def test_without_a_ledger_the_story_names_the_output_checks_that_measured_loss() -> None:
    from dagstorm.analysis.measures.data.output_checks import OutputCheckMeasure

    journal = Journal()
    journal.try_("load_a", 1, "success", (10, 20))
    journal.add("run_end", t=300, status="completed")
    data = build_run_data(journal.events, run_dir=Path("run"))
    measures = compute_measures(data)
    assert not measures.completeness.measured
    check = OutputCheckMeasure("orders_loaded", "sql", "ids", 12, 10, 10, 0, 2, None)
    unmeasured = OutputCheckMeasure("lag", "kafka", None, None, None, None, None, None, "down")
    story = run_story(
        replace(measures, output_checks=(check, unmeasured)),
        judge(data, measures),
        status="completed",
    )
    assert "orders_loaded: 0 lost, 2 duplicated" in story and "not measured" not in story
    story = run_story(measures, judge(data, measures), status="completed")
    assert "loss not measured" in story
