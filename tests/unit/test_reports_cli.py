"""`dagstorm report RUN_DIR`."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

import dagstorm.cli.report_commands  # noqa: F401  (registers the command)
from dagstorm.cli import cli

SMOKE = Path(__file__).resolve().parents[1] / "fixtures" / "report_runs" / "20261124T041804Z-smoke"


def test_report_command_writes_report_html(tmp_path: Path) -> None:
    run_dir = tmp_path / SMOKE.name
    shutil.copytree(SMOKE, run_dir)
    outcome = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "state"), "report", str(run_dir)]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (run_dir / "report.html").is_file()
    assert str(run_dir / "report.html") in outcome.output


def test_report_command_output_option(tmp_path: Path) -> None:
    run_dir = tmp_path / SMOKE.name
    shutil.copytree(SMOKE, run_dir)
    target = tmp_path / "out.html"
    outcome = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "state"), "report", str(run_dir), "-o", str(target)]
    )
    assert outcome.exit_code == 0, outcome.output
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert not (run_dir / "report.html").exists()


def test_report_command_on_a_directory_without_journal(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        cli, ["--state-dir", str(tmp_path / "state"), "report", str(tmp_path)]
    )
    assert outcome.exit_code == 2
    assert "no journal.jsonl" in outcome.output


def test_report_help_has_an_example() -> None:
    outcome = CliRunner().invoke(cli, ["report", "--help"])
    assert "Example:" in outcome.output


def test_report_and_analyze_say_how_they_differ_and_do_so(tmp_path: Path) -> None:
    runner = CliRunner()
    report_help = runner.invoke(cli, ["report", "--help"]).output
    analyze_help = runner.invoke(cli, ["analyze", "--help"]).output
    assert "How it differs from `dagstorm analyze`" in report_help
    assert "How it differs from `dagstorm report`" in analyze_help
    # What the help says: report writes the page only and exits 0 on a failed run;
    # analyze writes result.json and junit.xml too and exits with the verdict's code.
    run_dir = tmp_path / "run"
    shutil.copytree(SMOKE, run_dir)
    for name in ("result.json", "junit.xml", "report.html"):
        (run_dir / name).unlink(missing_ok=True)
    state = ["--state-dir", str(tmp_path / "state")]
    reported = runner.invoke(cli, [*state, "report", str(run_dir)])
    assert reported.exit_code == 0, reported.output
    assert (run_dir / "report.html").exists()
    assert not (run_dir / "result.json").exists() and not (run_dir / "junit.xml").exists()
    analysed = runner.invoke(cli, [*state, "analyze", str(run_dir)])
    assert analysed.exit_code == 1, analysed.output  # the smoke run failed its SLOs
    assert (run_dir / "result.json").exists() and (run_dir / "junit.xml").exists()
