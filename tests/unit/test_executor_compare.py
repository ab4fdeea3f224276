"""`dagstorm compare` side by side: two fake runs, one on LocalExecutor, one on Celery."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dagstorm.analysis import analyze
from dagstorm.analysis.outputs.baseline import read_baseline, write_baseline
from dagstorm.analysis.outputs.compare import parse_tolerances
from dagstorm.analysis.outputs.executor_compare import executor_comparison, executor_of
from dagstorm.cli import cli
from dagstorm.harness.baseline import resolve_baseline
from dagstorm.reports import render_report


def document(
    executor: str | None,
    *,
    median: float,
    peak: int,
    delays: tuple[float, float, float],
    sla: dict[str, float | None],
    recovery: dict[str, float | None],
) -> dict[str, Any]:
    """A result.json document with the measures the side-by-side table reads."""
    scenario: dict[str, Any] = {"name": "celery-worker-loss"}
    if executor is not None:
        scenario["executor"] = executor
    p50, p95, p99 = delays
    faults = [
        {
            "fault_id": key,
            "fault": "celery kill worker 1",
            "recovered": value is not None,
            # An unrecovered fault's infinite recovery is null in result.json.
            "recovery_sim_s": value,
        }
        for key, value in recovery.items()
    ]
    return {
        "format": 1,
        "kind": "dagstorm.result",
        "run": {"directory": f"run-{executor}", "started_at": "2026-12-07T00:00:00.000Z"},
        "scenario": scenario,
        "verdict": {"score": 90.0},
        "measures": {
            "sla": [{"dag_id": dag, "compliance": c} for dag, c in sla.items()],
            "recovery": [{"dag_id": None, "faults": faults, "unrecovered": 0}],
            "throughput": {
                "median_finished_per_min": median,
                "peak_finished_per_min": peak,
                "task_queue_delay_s": {"count": 10, "p50": p50, "p95": p95, "p99": p99},
            },
            "completeness": {},
        },
    }


LOCAL = document(
    "LocalExecutor",
    median=120.0,
    peak=180,
    delays=(0.5, 2.0, 4.0),
    sla={"windmill_chain_40": 1.0, "sched_a": 0.9},
    recovery={"kill-worker": 30.0},
)
CELERY = document(
    "CeleryExecutor",
    median=90.0,
    peak=150,
    delays=(1.5, 6.0, 9.0),
    sla={"windmill_chain_40": 0.8, "only_celery": 0.5},
    recovery={"kill-worker": None, "broker-down": 60.0},
)


def write(root: Path, name: str, doc: dict[str, Any]) -> Path:
    run = root / name
    run.mkdir()
    (run / "result.json").write_text(json.dumps(doc))
    return run


def test_rows_pair_each_measure_by_dag_and_fault() -> None:
    sides = executor_comparison(LOCAL, CELERY)
    assert (sides.executor_a, sides.executor_b, sides.differ) == (
        "LocalExecutor",
        "CeleryExecutor",
        True,
    )
    rows = {r.label: (r.a, r.b) for r in sides.rows}
    assert rows["task instances finished per minute (median)"] == (120.0, 90.0)
    assert rows["task instances finished per minute (peak)"] == (180.0, 150.0)
    assert rows["queued → running p95"] == (2.0, 6.0)
    assert rows["queued → running p99"] == (4.0, 9.0)
    assert rows["SLA windmill_chain_40"] == (1.0, 0.8)
    assert rows["SLA sched_a"] == (0.9, None)
    assert rows["SLA only_celery"] == (None, 0.5)
    # Never recovered in B: not a number, not zero.
    assert rows["recovery kill-worker (celery kill worker 1)"] == (30.0, None)
    assert rows["recovery broker-down (celery kill worker 1)"] == (None, 60.0)


def test_a_run_that_names_no_executor_is_unknown() -> None:
    assert executor_of(document(None, median=1, peak=1, delays=(0, 0, 0), sla={}, recovery={})) == (
        "unknown"
    )
    assert not executor_comparison(LOCAL, LOCAL).differ


def test_cli_compare_shows_executors_side_by_side(tmp_path: Path) -> None:
    a = write(tmp_path, "local", LOCAL)
    b = write(tmp_path, "celery", CELERY)
    runner = CliRunner()
    text = runner.invoke(cli, ["compare", str(a), str(b)], terminal_width=200)
    assert "Traceback" not in text.output, text.output
    assert "different executors" in text.output
    executor_line = next(line for line in text.output.splitlines() if "executor " in line)
    assert "LocalExecutor" in executor_line and "CeleryExecutor" in executor_line
    assert "SLA only_celery" in text.output
    as_json = runner.invoke(cli, ["compare", str(a), str(b), "--json"])
    side = json.loads(as_json.output)["side_by_side"]
    assert side["executor_a"] == "LocalExecutor" and side["executor_b"] == "CeleryExecutor"
    rows = {r["label"]: r for r in side["rows"]}
    assert rows["queued → running p50"]["a"] == 0.5
    assert rows["queued → running p50"]["b"] == 1.5
    assert rows["recovery kill-worker (celery kill worker 1)"]["b"] is None
    assert rows["recovery kill-worker (celery kill worker 1)"]["b_missing"] == "never recovered"
    assert rows["recovery broker-down (celery kill worker 1)"]["a_missing"] == "not measured"
    kill_line = next(line for line in text.output.splitlines() if "recovery kill-worker" in line)
    assert "never recovered" in kill_line


FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "broker_outage"


def test_report_puts_a_baseline_on_another_executor_beside_this_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURE, run_dir)
    baseline = resolve_baseline(write(tmp_path, "celery", CELERY), "", parse_tolerances(()))
    write_baseline(run_dir, baseline)
    # baseline.json keeps what the section needs; re-reading it gives the same.
    kept = read_baseline(run_dir)
    assert kept is not None and kept.side == baseline.side
    assert kept.side is not None and kept.side["scenario"]["executor"] == "CeleryExecutor"
    result = analyze(run_dir)
    html = render_report(run_dir, result)
    section = html[html.index('id="trends"') : html.index('id="sla"')]
    # The fixture's run names no executor: "unknown", which differs from Celery.
    assert (
        "Executor comparison: CeleryExecutor (baseline run-CeleryExecutor) vs unknown (this run)"
        in section
    )
    assert "SLA windmill_chain_40" in section and "queued → running p99" in section


def test_report_has_no_executor_section_for_the_same_executor(tmp_path: Path) -> None:
    run_dir = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURE, run_dir)
    same = document(None, median=1, peak=1, delays=(0, 0, 0), sla={}, recovery={})
    write_baseline(run_dir, resolve_baseline(write(tmp_path, "same", same), "", {}))
    html = render_report(run_dir, analyze(run_dir))
    assert "Executor comparison" not in html
    assert "Against the baseline" in html
