"""`dagstorm run --dry-run` refuses what `dagstorm run` refuses before it starts anything.

A dry run that exits 0 promises the run will at least start: the stack config it would
load, its ``--baseline`` and the ``--tui`` option rules are checked as the run checks
them (issue 12: a dry run once passed a bad ``--tolerance``), each with one line and exit 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dagstorm.cli import cli

ROOT = Path(__file__).parents[2]
SMOKE = ROOT / "scenarios" / "smoke.yaml"
RUN = ROOT / "tests" / "fixtures" / "runs" / "20261124T041804Z-smoke"
ENV = {"DAGSTORM_STACK_FILE": None, "DAGSTORM_STATE_DIR": None}


def dry_run(tmp_path: Path, *args: str) -> Result:
    command = ["--state-dir", str(tmp_path / "state"), "run", "--dry-run", *args, str(SMOKE)]
    return CliRunner().invoke(cli, command, env=ENV)


def _not_a_run(tmp_path: Path) -> list[str]:
    (tmp_path / "empty").mkdir()
    return ["--baseline", str(tmp_path / "empty")]


def _empty_history(tmp_path: Path) -> list[str]:
    (tmp_path / "history.jsonl").write_text("")
    return ["--baseline", str(tmp_path / "history.jsonl")]


def _tui_with_baseline(tmp_path: Path) -> list[str]:
    return ["--tui", "--baseline", str(RUN)]


def _scenario_as_stack_file(tmp_path: Path) -> list[str]:
    return ["--stack-file", str(SMOKE)]


def _alias_bomb_stack_file(tmp_path: Path) -> list[str]:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    bomb = tmp_path / "bomb.stack.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    return ["--stack-file", str(bomb)]


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_not_a_run, "not a run directory"),
        (_empty_history, "the history has no completed run of scenario 'smoke'"),
        (_tui_with_baseline, "are not forwarded to the --tui engine yet"),
        (_scenario_as_stack_file, "this file is a scenario, not a stack config"),
        (_alias_bomb_stack_file, "once YAML aliases are expanded"),
    ],
)
def test_what_the_run_would_refuse_the_dry_run_refuses(
    tmp_path: Path, make: Callable[[Path], list[str]], why: str
) -> None:
    result = dry_run(tmp_path, *make(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # no timeline before the refusal
    (line,) = result.stderr.splitlines()
    assert line.startswith("dagstorm: error: ") and why in line and " — fix: " in line


def test_a_good_baseline_and_stack_file_still_print_the_timeline(tmp_path: Path) -> None:
    stack = tmp_path / "dagstorm.stack.yaml"
    stack.write_text("kind: embedded\n")
    result = dry_run(tmp_path, "--baseline", str(RUN), "--stack-file", str(stack))
    assert result.exit_code == 0, result.output
    assert "smoke: 00:03:00 wall" in result.stdout and "fault inject" in result.stdout
