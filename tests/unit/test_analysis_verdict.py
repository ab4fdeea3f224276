"""SLO verdicts, the weighted score, exit codes, and SLOs that cannot be measured."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dagstorm.analysis.measures.compute import compute_measures
from dagstorm.analysis.rundata.load import build_run_data
from dagstorm.analysis.verdict.judgement import Verdict, evaluate
from dagstorm.core.errors import ExitCode

ORIGIN = datetime(2026, 3, 1, 22, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(ORIGIN + t, UTC).isoformat()


def verdict_of(
    slos: list[dict[str, Any]],
    body: list[tuple[str, float, dict[str, Any]]],
    *,
    compression: float = 1.0,
    end_t: float = 300,
    ledger: pd.DataFrame | None = None,
    serving: pd.DataFrame | None = None,
) -> Verdict:
    events: list[dict[str, Any]] = [
        {
            "seq": 1,
            "t": 0,
            "wall": ORIGIN,
            "kind": "run_start",
            "time_compression": compression,
            "slos": slos,
        }
    ]
    for kind, t, fields in body:
        events.append({"seq": len(events) + 1, "t": t, "wall": ORIGIN + t, "kind": kind, **fields})
    events.append({"seq": len(events) + 1, "t": end_t, "wall": ORIGIN + end_t, "kind": "run_end"})
    absent = {"serving": "no serving.parquet in the run directory"} if serving is None else {}
    data = build_run_data(
        events, run_dir=Path("run"), ledger=ledger, serving=serving, absent=absent
    )
    return evaluate(data.scenario.slos, compute_measures(data), compression=compression)


def run(run_id: str, queued: float, end: float, state: str = "success") -> tuple[str, float, Any]:
    fields = {
        "dag_id": "d",
        "run_id": run_id,
        "state": state,
        "queued_at": iso(queued),
        "start_date": iso(queued),
        "end_date": iso(end),
    }
    return ("dag_run", end, fields)


def task(run_id: str, start: float, end: float) -> tuple[str, float, Any]:
    fields = {
        "dag_id": "d",
        "run_id": run_id,
        "task_id": "t",
        "map_index": -1,
        "try_number": 1,
        "state": "success",
        "queued_when": iso(start),
        "start_date": iso(start),
        "end_date": iso(end),
    }
    return ("task_try", end, fields)


FAULT = [
    ("fault_applied", 50, {"fault_id": "f", "fault": "broker kill", "took_s": 0}),
    ("fault_reverted", 100, {"fault_id": "f", "fault": "broker kill"}),
]
#: Two runs within 100 s; one succeeding 40 s after the fault; tasks in minutes 0-2.
BODY = [
    run("a", 0, 30),
    run("b", 60, 140),
    *FAULT,
    task("a", 1, 20),
    task("a", 21, 40),
    task("b", 70, 130),
    task("b", 131, 170),
]


def test_verdicts_and_weighted_score() -> None:
    slos = [
        {"type": "sla", "dag": "d", "within": 100, "compliance": ">= 90%", "weight": 3},
        {"type": "recovery_time", "max": "<= 30s", "weight": 1},
        {"type": "scheduler_throughput", "min": 1, "weight": 2},
    ]
    v = verdict_of(slos, BODY, end_t=180)
    by_name = {x.name: x for x in v.slos}
    sla = by_name["sla:d"]
    assert (sla.passed, sla.value, sla.weight) == (True, 1.0, 3)
    assert sla.value_text == "100.0% (2 of 2 runs within deadline)"
    recovery = by_name["recovery_time:max"]
    assert recovery.passed is False and recovery.value == pytest.approx(40)
    assert recovery.target == "<= 30s"
    assert "broker kill [f]" in recovery.detail
    throughput = by_name["scheduler_throughput"]
    assert throughput.passed and throughput.value == 1.0
    assert v.score == pytest.approx(round(100 * 5 / 6, 1))
    assert not v.passed
    assert v.exit_code is ExitCode.SLO_FAILED
    assert [x.name for x in v.failed] == ["recovery_time:max"]


def test_sla_in_simulated_time() -> None:
    # Run b takes 80 s wall: at ×24 that is 32 min sim, over a 30 min deadline.
    slos = [{"type": "sla", "dag": "d", "within": "30m", "compliance": ">= 60%"}]
    v = verdict_of(slos, BODY, compression=24, end_t=180)
    (sla,) = v.slos
    assert sla.value == pytest.approx(0.5)
    assert not sla.passed
    assert "deadline 30m sim = 1m15s wall at ×24" in sla.detail
    assert "over by 2m sim (5s wall)" in sla.detail


def test_all_pass_exit_zero() -> None:
    v = verdict_of([{"type": "recovery_time", "p95": "<= 1m", "weight": 2}], BODY, end_t=180)
    assert v.passed and v.score == 100.0 and v.exit_code is ExitCode.OK


def test_a_fault_never_recovered_fails_even_outside_the_p95() -> None:
    body = list(BODY)
    for n in range(20):  # 20 recovered faults and one never recovered after them
        start = 200 + n * 10
        body.append(("fault_applied", start, {"fault_id": f"g{n}", "fault": "x", "took_s": 0}))
        body.append(("fault_reverted", start + 1, {"fault_id": f"g{n}", "fault": "x"}))
        body.append(run(f"ok{n}", start, start + 3))
    body.append(("fault_applied", 500, {"fault_id": "last", "fault": "y", "took_s": 0}))
    body.append(("fault_reverted", 510, {"fault_id": "last", "fault": "y"}))
    v = verdict_of([{"type": "recovery_time", "p95": "<= 1m"}], body, end_t=600)
    (recovery,) = v.slos
    assert recovery.value is not None and recovery.value <= 60  # the p95 itself is fine
    assert not recovery.passed
    assert "1 never recovered" in recovery.value_text
    assert "y [last]: no successful run after its end" in recovery.detail


UNMEASURABLE = [
    ({"type": "sla", "dag": "nowhere", "within": 60}, "no run of DAG nowhere"),
    ({"type": "recovery_time", "p95": "<= 10m"}, "no fault was applied"),
    ({"type": "scheduler_throughput", "min": 10}, "no task try ran"),
    ({"type": "lost_events", "max": 0}, "no ledger in the run directory"),
    ({"type": "duplicate_events", "max": 0}, "no ledger in the run directory"),
]


@pytest.mark.parametrize(("slo", "why"), UNMEASURABLE)
def test_unmeasurable_slos_fail_with_the_reason(slo: dict[str, Any], why: str) -> None:
    v = verdict_of([slo], [], end_t=120)
    (only,) = v.slos
    assert not only.passed and not only.measured
    assert only.value is None and only.value_text == "not measured"
    assert only.detail.startswith("not measured: ") and why in only.detail
    assert v.score == 0.0 and v.exit_code is ExitCode.SLO_FAILED


def test_a_run_still_running_at_the_end_is_named_in_the_sla_text() -> None:
    going = ("dag_run", 150, {"dag_id": "d", "run_id": "late_one", "state": "running",
                              "queued_at": iso(115)})  # fmt: skip
    slo = {"type": "sla", "dag": "d", "within": 100}
    v = verdict_of([slo], [run("a", 0, 50), run("b", 60, 120), going], end_t=180)
    (sla,) = v.slos
    # Not counted (it could still have made it), but not passed over in silence either.
    assert sla.value_text == (
        "100.0% (2 of 2 runs within deadline; 1 still running at the end, not counted)"
    )
    assert "1 excluded (1 unfinished within deadline)" in sla.detail
    assert "still running at the end: late_one (running, 65% of its deadline)" in sla.detail


def test_sla_with_only_excluded_runs_is_not_measured() -> None:
    pending = ("dag_run", 5, {"dag_id": "d", "run_id": "r", "state": "running",
                              "queued_at": iso(0)})  # fmt: skip
    v = verdict_of([{"type": "sla", "dag": "d", "within": 3600}], [pending], end_t=60)
    assert "all 1 run of d were excluded" in v.slos[0].detail


LEDGER_COLUMNS = [
    "partition_hour",
    "event_hour",
    "campaign_id",
    "ad_id",
    "event_type",
    "label",
    "generated",
    "written",
    "acked",
    "spend_micros",
]


def test_a_ledger_without_serving_data_is_not_measured() -> None:
    hour = pd.Timestamp("2026-03-01T22:00", tz="UTC")
    ledger = pd.DataFrame(
        [[hour, hour, 1, 2, "impression", "valid", 10, 10, None, 0]], columns=LEDGER_COLUMNS
    )
    ledger["acked"] = ledger["acked"].astype("Int64")
    v = verdict_of([{"type": "duplicate_events", "max": 0}], [], ledger=ledger)
    assert v.slos[0].detail == "not measured: no serving.parquet in the run directory"


def test_a_ledger_expecting_nothing_is_not_measured() -> None:
    ledger = pd.DataFrame(columns=LEDGER_COLUMNS)
    serving = pd.DataFrame(
        {c: [] for c in ("campaign_id", "ad_id", "hour", "impressions", "clicks", "conversions")}
    )
    v = verdict_of([{"type": "lost_events", "max": 0}], [], ledger=ledger, serving=serving)
    assert "the ledger expects no event" in v.slos[0].detail
    assert not v.passed


def test_no_slos_leaves_nothing_for_the_slos_to_fail() -> None:
    # evaluate() judges the SLOs only; a run's findings are judge()'s
    # (tests/unit/test_analysis_findings.py).
    v = verdict_of([], BODY)
    assert v.passed and v.score is None and v.exit_code is ExitCode.OK and v.findings == ()
