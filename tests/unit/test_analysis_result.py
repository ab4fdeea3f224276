"""analyze() on the hand-built broker_outage run: result.json, junit.xml, the summary."""

from __future__ import annotations

import json
import os
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagstorm.analysis import (
    RESULT_FORMAT,
    analyze,
    result_document,
    summary_lines,
    write_junit,
    write_result,
)
from dagstorm.core.errors import ExitCode

FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "broker_outage"
H22 = pd.Timestamp("2026-03-01T22:00", tz="UTC")
H23 = pd.Timestamp("2026-03-01T23:00", tz="UTC")
# The retry waited 1m5s: try 1 ended at 180 s, try 2 started at 245 s (fixture README).
STORY = (
    "kafka broker kill at 2m (sim 48m): 1 run retried (failed tries: transform 1),"
    " 1m5s wall before a retry,"
    " recovered in 18m sim, throughput −33.3% at worst, back to ≥90% 40s wall after the"
    " revert, SLA 66.7%, 0 lost — 4 of 5 SLOs passed"
)


def write_ledger(run_dir: Path) -> None:
    """What the generator wrote: hours 22 and 23, one campaign, a few bad lines."""
    rows = [
        (H22, H22, 1000001, 100000001, "impression", "valid", 900),
        (H22, H22, 1000001, 100000001, "click", "valid", 80),
        (H22, H22, 1000001, 100000001, "impression", "malformed", 20),
        (H23, H23, 1000001, 100000001, "impression", "valid", 1100),
        (H23, H22, 1000001, 100000001, "impression", "late", 10),
        (H23, H23, 1000001, 100000001, "conversion", "valid", 60),
        (H23, H23, 1000001, 100000001, "impression", "duplicate", 30),
    ]
    hours = pa.timestamp("ms", tz="UTC")
    table = pa.table(
        {
            "partition_hour": pa.array([r[0] for r in rows], hours),
            "event_hour": pa.array([r[1] for r in rows], hours),
            "campaign_id": pa.array([r[2] for r in rows], pa.int64()),
            "ad_id": pa.array([r[3] for r in rows], pa.int64()),
            "event_type": pa.array([r[4] for r in rows]),
            "label": pa.array([r[5] for r in rows]),
            "generated": pa.array([r[6] for r in rows], pa.int64()),
            "written": pa.array([r[6] for r in rows], pa.int64()),
            "acked": pa.nulls(len(rows), pa.int64()),
            "spend_micros": pa.array([r[6] * 100 for r in rows], pa.int64()),
        }
    )
    (run_dir / "ledger").mkdir()
    pq.write_table(table, run_dir / "ledger" / "counts-00000.parquet")


def write_serving(run_dir: Path, impressions_22: int = 910) -> None:
    """What the engine's snapshot writes: this run's rows of ad_stats_hourly."""
    frame = pd.DataFrame(
        {
            "hour": [H22, H23],
            "campaign_id": ["1000001", "1000001"],
            "ad_id": ["100000001", "100000001"],
            "impressions": [impressions_22, 1100],
            "clicks": [80, 0],
            "conversions": [0, 60],
            "run_id": ["manual__2026-03-01T22", "manual__2026-03-01T23"],
        }
    )
    frame.to_parquet(run_dir / "serving.parquet", index=False)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    target = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURE, target)
    write_ledger(target)
    write_serving(target)
    return target


def test_known_answers(run_dir: Path) -> None:
    result = analyze(run_dir)
    assert result.run.status == "completed"
    assert result.run.events == 44  # the torn last line is skipped
    assert (result.run.wall_s, result.run.sim_s) == (600, 14400)
    verdicts = {v.name: v for v in result.verdict.slos}
    assert verdicts["sla:ad_logs_hourly"].value == pytest.approx(2 / 3)
    assert not verdicts["sla:ad_logs_hourly"].passed
    assert verdicts["recovery_time:p95"].value == pytest.approx(18 * 60)
    assert verdicts["scheduler_throughput"].value == 1.0
    assert verdicts["lost_events"].value == 0 and verdicts["lost_events"].passed
    assert verdicts["duplicate_events"].value == 0
    assert result.verdict.score == 62.5
    assert result.exit_code is ExitCode.SLO_FAILED
    assert result.story == STORY
    completeness = result.measures.completeness
    assert completeness.bad_records.injected_by_label == {"duplicate": 30, "malformed": 20}


def test_without_ledger_and_serving_the_count_slos_fail(tmp_path: Path) -> None:
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    result = analyze(target)
    assert result.verdict.score == 37.5
    assert "loss not measured" in result.story


def test_a_lost_and_a_duplicated_event(run_dir: Path) -> None:
    write_serving(run_dir, impressions_22=905)  # 5 of 910 impressions lost
    result = analyze(run_dir)
    assert result.measures.completeness.lost_events == 5
    lost = next(v for v in result.verdict.slos if v.name == "lost_events")
    assert not lost.passed
    assert "2026-03-01T22:00:00Z (5)" in lost.detail


def test_result_json_is_recomputable(run_dir: Path) -> None:
    path = write_result(run_dir, analyze(run_dir))
    first = path.read_bytes()
    write_result(run_dir, analyze(run_dir))
    assert path.read_bytes() == first
    assert result_document(analyze(run_dir)) == result_document(analyze(run_dir))


def test_result_json_format(run_dir: Path) -> None:
    path = write_result(run_dir, analyze(run_dir))

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    doc = json.loads(path.read_text(), parse_constant=refuse)
    assert doc["format"] == RESULT_FORMAT == 1
    assert doc["run"]["directory"] == run_dir.name
    assert doc["run"]["started_at"] == "2026-03-01T22:00:00.000Z"
    assert doc["scenario"]["seed"] == 42 and doc["scenario"]["time_compression"] == 24
    assert doc["verdict"] == {
        "passed": False,
        "exit_code": 1,
        "score": 62.5,
        "slos_total": 5,
        "slos_passed": 4,
        "slos_failed": 1,
        "findings": [],
    }
    assert [s["name"] for s in doc["slos"]][:2] == ["sla:ad_logs_hourly", "recovery_time:p95"]
    assert doc["story"] == STORY
    measures = doc["measures"]
    assert set(measures) == {
        "sla",
        "recovery",
        "alerts",
        "throughput",
        "scheduler_metrics",
        "completeness",
        "stream_completeness",
        "trigger_errors",
        "tries_never_started",
        "output_checks",
        "dag_faults",
        "cross_dag",
        "task_split",
        "celery",
        "inherited",
        "asset_storms",
    }
    assert measures["asset_storms"] == []  # no trigger storm posted asset events
    assert measures["celery"] is None  # a LocalExecutor run: no Celery samples or faults
    assert measures["inherited"]["runs"] == 0  # no run from before the start ran during it
    (miss,) = measures["sla"][0]["misses"]
    assert miss["run_id"] == "manual__2026-03-02T00"
    assert miss["over_by_sim_s"] == pytest.approx(120)
    fault = measures["recovery"][0]["faults"][0]
    assert fault["recovery_sim_s"] == pytest.approx(1080)
    assert fault["alerts"]["latency_wall_s"]["p50"] == pytest.approx(1.5)
    assert len(measures["throughput"]["minutes"]) == 10
    assert measures["completeness"]["lost_events"] == 0
    # Three successful ad_logs_hourly runs split, one left out; no executor named.
    (split,) = measures["task_split"]["groups"]
    assert (split["dag_id"], split["executor"]) == ("ad_logs_hourly", "unknown")
    assert (split["runs"], split["runs_left_out"], split["path_tries"]) == (3, 1, 10)
    assert doc["scenario"]["executor"] is None


def test_an_unrecovered_fault_is_null_in_json(tmp_path: Path) -> None:
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    journal = target / "journal.jsonl"
    lines = [line for line in journal.read_text().splitlines() if '"run_end"' not in line]
    extra = (
        '{"v":1,"seq":100,"t":598,"wall":1772402998.0,"sim":14352.0,"kind":"fault_applied",'
        '"fault_id":"f2","fault":"scheduler kill","took_s":0}'
    )
    journal.write_text("\n".join([*lines[:-1], extra]) + "\n")
    doc = result_document(analyze(target))
    fault = doc["measures"]["recovery"][0]["faults"][1]
    assert fault["recovered"] is False and fault["recovery_sim_s"] is None
    assert doc["run"]["status"] == "unfinished"
    recovery = next(s for s in doc["slos"] if s["name"] == "recovery_time:p95")
    assert recovery["passed"] is False and recovery["value"] is None


def test_junit_xml(run_dir: Path) -> None:
    path = write_junit(run_dir, analyze(run_dir))
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "broker-outage-fixture"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "1", "0")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["scenario"] == "broker-outage-fixture"
    assert properties["seed"] == "42"
    assert properties["score"] == "62.5"
    cases = suite.findall("testcase")
    assert len(cases) == 5
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["sla:ad_logs_hourly"]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "measured 66.7% (2 of 3 runs within deadline;"
        " 1 still running at the end, not counted) vs target >= 95%"
    )
    assert path.read_bytes() == write_junit(run_dir, analyze(run_dir)).read_bytes()


def test_junit_marks_unmeasured_slos(tmp_path: Path) -> None:
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    root = ET.parse(write_junit(target, analyze(target))).getroot()
    failures = {f.get("type") for f in root.iter("failure")}
    assert failures == {"slo_failed", "not_measured"}
    assert root.find("testsuite").get("failures") == "3"  # type: ignore[union-attr]


def test_summary_lines(run_dir: Path) -> None:
    lines = summary_lines(analyze(run_dir))
    assert lines[0].startswith("broker-outage-fixture: run completed after 10m wall (4h sim")
    assert any(line.lstrip().startswith("FAIL  sla:ad_logs_hourly") for line in lines)
    assert any(line.lstrip().startswith("PASS  recovery_time:p95") for line in lines)
    assert (
        "score 62.5/100 (weighted share of SLOs passed); run completed; no findings — FAIL (exit 1)"
        in lines
    )
    assert lines[-1] == STORY


def test_written_files_are_readable_by_others_as_the_umask_allows(run_dir: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_result(run_dir, analyze(run_dir))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
