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
