"""``--tolerance NAME=VALUE`` is checked while the command line is parsed: a bad one is
refused with one line and exit code 2 by every command that takes it, --dry-run included."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli

ROOT = Path(__file__).parents[2]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
RUN = str(ROOT / "tests" / "fixtures" / "runs" / "20261124T041804Z-smoke")
COMMANDS = {
    "run": ["run", "--dry-run", SMOKE],
    "nightly": ["nightly", "--dry-run", str(ROOT / "scenarios" / "nightly.yaml")],
    "compare": ["compare", RUN, RUN],
}


def invoke(args: list[str], tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("foo", "'foo': expected NAME=VALUE with NAME one of sla_compliance"),
        ("nope=1", "'nope=1': expected NAME=VALUE"),
        ("score=abc", "tolerance 'abc' is not a number or a percentage"),
        ("score=", "tolerance '' is not a number or a percentage"),
    ],
)
def test_a_bad_tolerance_is_one_line_and_exit_2(
    command: str, value: str, why: str, tmp_path: Path
) -> None:
    code, output = invoke([*COMMANDS[command], "--tolerance", value], tmp_path)
    assert code == 2
    (line,) = output.splitlines()
    assert line.startswith("dagstorm: error: --tolerance") and why in line
    assert " — fix: " in line


@pytest.mark.parametrize("command", ["run", "compare"])
def test_good_tolerances_are_accepted(command: str, tmp_path: Path) -> None:
    args = [*COMMANDS[command], "--tolerance", "score=10", "--tolerance", "sla_compliance=5%"]
    code, output = invoke(args, tmp_path)
    assert code == 0, output
