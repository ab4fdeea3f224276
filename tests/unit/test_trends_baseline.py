"""--baseline: a regression against an earlier run fails the verdict; the report's trend."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.analysis import analyze, result_document, write_junit
from dagstorm.analysis.outputs.baseline import BASELINE_FILE, write_baseline
from dagstorm.analysis.outputs.compare import parse_tolerances
from dagstorm.analysis.outputs.history import HistoryEntry, append_history, entry_of
from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode, UsageError
from dagstorm.harness.baseline import resolve_baseline
from dagstorm.reports import render_report

FIXTURE = Path(__file__).parents[1] / "fixtures" / "journals" / "broker_outage"
SCENARIO = "broker-outage-fixture"
#: The fixture's own headline (see test_trends_history): SLA 2/3, recovery p95 18 min sim.
OWN = {
    "sla_compliance": 0.666667,
    "recovery_p95_sim_s": 1080.0,
    "unrecovered_faults": 0.0,
    "throughput_per_min": 1.0,
    "score": 37.5,
    "lost_events": None,
    "duplicate_events": None,
}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    target = tmp_path / "20260301T220000Z-broker-outage-fixture"
    shutil.copytree(FIXTURE, target)
    return target


def history_entry(run: str, started: str, **measures: float | None) -> HistoryEntry:
    return HistoryEntry(
        run=run,
        path=f"/runs/{run}",
        scenario=SCENARIO,
        started_at=started,
        status="completed",
        passed=True,
        exit_code=0,
        wall_s=600.0,
        measures={**OWN, **measures},
        slos={},
    )


def test_a_better_baseline_fails_the_verdict(run_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    append_history(
        history,
        history_entry(
            "earlier", "2026-02-28T22:00:00.000Z", sla_compliance=1.0, recovery_p95_sim_s=600.0
        ),
    )
    baseline = resolve_baseline(history, SCENARIO, parse_tolerances(()))
    assert baseline.run == "earlier"
    write_baseline(run_dir, baseline)
    result = analyze(run_dir)
    check = result.verdict.slos[-1]
    assert (check.name, check.type, check.passed, check.value) == (
        "baseline",
        "baseline",
        False,
        2.0,
    )
    assert check.detail.startswith("2 regressions: sla_compliance worse by 33.33 pp")
    assert "recovery_p95_sim_s worse by 480 s (tolerance 25%)" in check.detail
    assert result.verdict.score == 37.5  # weight 0: the scenario's own score
    document = result_document(result)
    assert document["baseline"]["run"] == "earlier"
    assert document["baseline"]["regressions"] == 2
    root = ET.parse(write_junit(run_dir, result)).getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "baseline")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "measured 2 regression(s) vs target no regression beyond tolerance vs earlier"
    )
    # The baseline lives in the run directory: re-analysing gives the same verdict.
    assert result_document(analyze(run_dir)) == document
    html = render_report(run_dir, result)
    section = html[html.index('id="trends"') : html.index('id="sla"')]
    assert "Against the baseline earlier (2026-02-28T22:00:00)" in section
    assert section.count('class="bad">regression: ') == 2


def test_the_same_measures_pass_the_baseline_check(run_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    append_history(history, entry_of(result_document(analyze(run_dir)), run_dir))
    write_baseline(run_dir, resolve_baseline(history, SCENARIO, parse_tolerances(())))
    result = analyze(run_dir)
    assert result.verdict.slos[-1].passed
    assert result.verdict.exit_code == ExitCode.SLO_FAILED  # its own SLOs still fail
    assert not result.verdict.slos[-1].detail.count("regression:")


def test_without_baseline_file_nothing_is_added(run_dir: Path) -> None:
    assert not (run_dir / BASELINE_FILE).exists()
    result = analyze(run_dir)
    assert [v.name for v in result.verdict.slos][-1] != "baseline"
    assert "baseline" not in result_document(result)


def test_resolve_refuses_what_is_no_baseline(tmp_path: Path) -> None:
    empty = tmp_path / "history.jsonl"
    empty.write_text("")
    with pytest.raises(UsageError, match="no completed run of scenario"):
        resolve_baseline(empty, SCENARIO, parse_tolerances(()))
    with pytest.raises(UsageError, match="neither a run directory nor a history file"):
        resolve_baseline(tmp_path / "missing", SCENARIO, parse_tolerances(()))


def test_an_interrupted_run_is_never_the_baseline(tmp_path: Path) -> None:
    from dataclasses import replace

    history = tmp_path / "history.jsonl"
    whole = history_entry("whole", "2026-03-01T20:00:00Z", score=90.0)
    cut = replace(history_entry("cut", "2026-03-01T21:00:00Z", score=5.0), status="interrupted")
    append_history(history, whole)
    append_history(history, cut)  # the newest, but it measured less than a whole run
    chosen = resolve_baseline(history, SCENARIO, parse_tolerances(()))
    assert chosen.run == "whole" and chosen.measures["score"] == 90.0
    only_cut = tmp_path / "only-cut.jsonl"
    append_history(only_cut, cut)
    with pytest.raises(UsageError, match="no completed run of scenario"):
        resolve_baseline(only_cut, SCENARIO, parse_tolerances(()))


def test_run_refuses_a_bad_baseline_before_touching_the_stack(tmp_path: Path) -> None:
    empty = tmp_path / "history.jsonl"
    empty.write_text("")
    scenario = Path(__file__).parents[2] / "scenarios" / "smoke.yaml"
    stack = tmp_path / "stack.yaml"
    stack.write_text(f"state_dir: {tmp_path / 'state'}\n")
    result = CliRunner().invoke(
        cli,
        [
            "--stack-file",
            str(stack),
            "run",
            str(scenario),
            "--baseline",
            str(empty),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "no completed run of scenario 'smoke'" in result.output
    assert not (tmp_path / "runs").exists()


def test_report_shows_the_trend_of_the_last_runs(run_dir: Path) -> None:
    result = analyze(run_dir)
    history = [
        history_entry("r1", "2026-02-27T22:00:00.000Z", sla_compliance=1.0),
        history_entry("r2", "2026-02-28T22:00:00.000Z", sla_compliance=0.9),
        entry_of(result_document(result), run_dir),
        # Later than this run, or another scenario: not in its trend.
        history_entry("later", "2026-03-02T22:00:00.000Z"),
        HistoryEntry(
            "x", "/x", "other", "2026-02-28T00:00:00.000Z", "completed", True, 0, 1.0, {}, {}
        ),
    ]
    html = render_report(run_dir, result, history=history)
    section = html[html.index('id="trends"') : html.index('id="sla"')]
    assert section.count('class="chart trend"') == 3
    assert "r1" in section and "r2" in section and run_dir.name in section
    assert "later" not in section and ">x<" not in section
    assert "The last 3 runs of broker-outage-fixture" in section
    # This run is ringed in each chart and named in its dot's hover text.
    assert section.count('class="dots ring"') == 3
    assert f"<title>{run_dir.name}: 66.7%</title>" in section
    # r2 → this run: SLA 90% → 66.7% is beyond 2 pp: flagged; r1 → r2 (-10 pp) too.
    flagged = re.findall(r'<span title="(worse by [^"]*)" class="bad">([^<]*)<', section)
    assert flagged == [
        ("worse by 10 pp (tolerance 0.02)", "90.0%"),
        ("worse by 23.33 pp (tolerance 0.02)", "66.7%"),
    ]
    lone = render_report(run_dir, result, history=[])
    assert "not measured: a trend needs two runs" in lone


def test_run_tui_refuses_options_it_does_not_forward(tmp_path: Path) -> None:
    scenario = Path(__file__).parents[2] / "scenarios" / "smoke.yaml"
    stack = tmp_path / "stack.yaml"
    stack.write_text(f"state_dir: {tmp_path / 'state'}\n")
    result = CliRunner().invoke(
        cli,
        ["--stack-file", str(stack), "run", str(scenario), "--tui", "--metrics-port", "0",
         "--runs-dir", str(tmp_path / "runs")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "not forwarded to the --tui engine yet" in result.output
    assert not (tmp_path / "runs").exists()
